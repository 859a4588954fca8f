/**
 * Helpers for the parking tests (shared/park.ts): requests through SELF, parsed with the
 * contract's schemas, and the fake GitHub of vitest.config.ts (its control paths).
 */
import { SELF } from 'cloudflare:test';
import { expect } from 'vitest';
import { JournalResponse, ParkResponse, ResumeResponse, RunView } from '../../shared/park.ts';
import type { DispatchView, JournalRequest, ParkRequest, ResumeRequest, RunRef } from '../../shared/park.ts';
import { authHeaders, BASE, runInObject, sleep } from './helpers.ts';

export const GITHUB = 'https://api.github.test';

/** The GitHub run that parked (attempt 1). */
export const PARKED_RUN: RunRef = { id: '1001', attempt: 1, url: 'https://github.com/wild-org/app/actions/runs/1001' };
/** A later run that continues it. */
export const RESUMED_RUN: RunRef = { id: '2002', attempt: 1, url: 'https://github.com/wild-org/app/actions/runs/2002' };

/** A repository no other test uses, admitted by the tests' ALLOWED_REPOSITORIES (`wild-org/*`). */
export function newRepository(): string {
  return `wild-org/app-${crypto.randomUUID().slice(0, 8)}`;
}

export function postJson(path: string, body: unknown, headers: Record<string, string> = authHeaders()): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

export function journalRequest(runId: string, overrides: Partial<JournalRequest> = {}): JournalRequest {
  return { runId, attempt: 1, key: 'prod/deploy', record: { type: 'called' }, run: PARKED_RUN, ...overrides };
}

/** POST /v1/runs/journal that must be answered 200. */
export async function journal(runId: string, overrides: Partial<JournalRequest> = {}): Promise<JournalResponse> {
  const res = await postJson('/v1/runs/journal', journalRequest(runId, overrides));
  expect(res.status).toBe(200);
  return JournalResponse.parse(await res.json());
}

export function parkRequest(runId: string, repository: string, overrides: Partial<ParkRequest> = {}): ParkRequest {
  return {
    runId,
    job: '*',
    attempt: 1,
    gateIds: [],
    targets: [],
    resume: { repository, workflow: '.github/workflows/deploy.yml', ref: 'refs/heads/main' },
    run: PARKED_RUN,
    ...overrides,
  };
}

/** POST /v1/runs/park that must be answered 200. */
export async function park(runId: string, repository: string, overrides: Partial<ParkRequest> = {}): Promise<ParkResponse> {
  const res = await postJson('/v1/runs/park', parkRequest(runId, repository, overrides));
  expect(res.status).toBe(200);
  return ParkResponse.parse(await res.json());
}

/** POST /v1/runs/resume that must be answered 200. */
export async function resume(runId: string, overrides: Partial<ResumeRequest> = {}): Promise<ResumeResponse> {
  const request: ResumeRequest = { runId, job: '*', attempt: 1, requested: true, run: RESUMED_RUN, ...overrides };
  const res = await postJson('/v1/runs/resume', request);
  expect(res.status).toBe(200);
  return ResumeResponse.parse(await res.json());
}

/** GET /v1/runs?run= that must succeed. */
export async function runView(runId: string): Promise<RunView> {
  const res = await SELF.fetch(`${BASE}/v1/runs?run=${encodeURIComponent(runId)}`, { headers: authHeaders() });
  expect(res.status).toBe(200);
  return RunView.parse(await res.json());
}

/** Polls the run view until its dispatch is no longer `due` (the alarm sent it, or gave up); fails after `ms`. */
export async function settledDispatch(runId: string, ms = 8000): Promise<DispatchView> {
  const until = Date.now() + ms;
  for (;;) {
    const { dispatch } = await runView(runId);
    if (dispatch && dispatch.state !== 'due') return dispatch;
    if (Date.now() > until) throw new Error(`the dispatch of ${runId} is still ${dispatch?.state ?? 'absent'}`);
    await sleep(25);
  }
}

/** What the fake GitHub got for a repository. */
export type FakeRepoLog = {
  installationId: number;
  lookups: number;
  tokens: string[];
  dispatches: { ref: unknown; inputs: unknown; returnRunDetails: unknown; workflow: string }[];
};

export async function githubLog(repository: string): Promise<FakeRepoLog> {
  const res = await fetch(`${GITHUB}/_control/log?repository=${encodeURIComponent(repository)}`);
  return (await res.json()) as FakeRepoLog;
}

/** Scripts the fake GitHub's answers for a repository (vitest.config.ts). */
export async function scriptGitHub(
  repository: string,
  script: { dispatch?: 'details' | 'no-content' | 'ghes' | 'refuse' | 'error'; installed?: boolean },
): Promise<void> {
  const res = await fetch(`${GITHUB}/_control/script`, { method: 'POST', body: JSON.stringify({ repository, ...script }) });
  expect(res.status).toBe(200);
}

/** The run's dispatch rows as stored. */
export function storedDispatches(runId: string): Promise<{ id: number; state: string; next_at: number | null; tries: number; first_try_at: number | null }[]> {
  return runInObject(runId, (state) =>
    state.storage.sql.exec<{ id: number; state: string; next_at: number | null; tries: number; first_try_at: number | null }>(
      'SELECT id, state, next_at, tries, first_try_at FROM dispatches ORDER BY id',
    ).toArray(),
  );
}

/** Makes the object's alarm fire now (as a late alarm would), without running it from the test. */
export function fireAlarmNow(runId: string): Promise<void> {
  return runInObject(runId, (state) => state.storage.setAlarm(Date.now()));
}
