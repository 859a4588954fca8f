/** Shared helpers for the relay tests: requests through SELF, parsed with the protocol's own schemas. */
import { env, runInDurableObject, SELF } from 'cloudflare:test';
import { expect } from 'vitest';
import { CallbackResponse, ErrorBody, GateView, RegisterGateResponse, TargetRecord } from '../../shared/protocol.ts';
import type { RegisterGateRequest, ReportTargetRequest, RunInfo } from '../../shared/protocol.ts';
import type { Principal } from '../../relay/run/principal.ts';
import type { RunObject } from '../../relay/run/object.ts';

export const BASE = 'https://relay.test';
export const RELAY_TOKEN = 'test-relay-token';
export const CALLBACK_SECRET = 'test-callback-secret';
/** The caller the Worker passes to the run object for RELAY_TOKEN: RPC tests act as the operator. */
export const TOKEN_CALLER: Principal = { kind: 'token' };

/** A run id no other test uses: storage is shared by every test of the project. */
export function newRunId(label = 'run'): string {
  // Not of the form owner/repo/…: such an id is that repository's alone (relay/run/owner.ts).
  return `test-run/${label}-${crypto.randomUUID()}`;
}

export function authHeaders(token = RELAY_TOKEN): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function gateRequest(overrides: Partial<RegisterGateRequest> = {}): RegisterGateRequest {
  return {
    runId: overrides.runId ?? newRunId(),
    stepKey: 'staging/beforeDeployment/0/Update-Database-Schema',
    target: 'staging',
    phase: 'beforeDeployment',
    name: 'Update-Database-Schema',
    timeoutSeconds: 3600,
    ...overrides,
  };
}

/** What the approval page shows about the run. */
export const RUN_INFO: RunInfo = {
  application: 'potato-facts',
  repository: 'acme/potato-facts',
  sha: '0123456789abcdef0123456789abcdef01234567',
  ref: 'refs/heads/main',
  actor: 'octocat',
  runUrl: 'https://github.com/acme/potato-facts/actions/runs/42',
};

/** A `pause: untilApproved` gate of prod, with the run described. */
export function approvalRequest(overrides: Partial<RegisterGateRequest> = {}): RegisterGateRequest {
  return gateRequest({
    stepKey: 'prod/beforeDeployment/0/approval',
    target: 'prod',
    name: 'Approval',
    kind: 'approval',
    run: RUN_INFO,
    ...overrides,
  });
}

/** Registers an approval gate; its approvalUrl is checked to be set. */
export async function registerApproval(
  overrides: Partial<RegisterGateRequest> = {},
): Promise<RegisterGateResponse & { status: number; request: RegisterGateRequest; approvalUrl: string }> {
  const gate = await register(approvalRequest(overrides));
  if (gate.approvalUrl === null) throw new Error('an approval gate must have an approval URL');
  return { ...gate, approvalUrl: gate.approvalUrl };
}

/** POST /v1/gates with any body (objects are sent as JSON). */
export function postRegister(body: unknown, headers: Record<string, string> = authHeaders()): Promise<Response> {
  return SELF.fetch(`${BASE}/v1/gates`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Registers a gate and returns the relay's validated answer with its status. */
export async function register(
  overrides: Partial<RegisterGateRequest> = {},
): Promise<RegisterGateResponse & { status: number; request: RegisterGateRequest }> {
  const request = gateRequest(overrides);
  const res = await postRegister(request);
  expect([200, 201]).toContain(res.status);
  return { ...RegisterGateResponse.parse(await res.json()), status: res.status, request };
}

export function postCallback(uri: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(uri, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** POST a callback that must be answered 200; returns the answer. */
export async function decide(uri: string, body: unknown): Promise<CallbackResponse> {
  const res = await postCallback(uri, body);
  expect(res.status).toBe(200);
  return CallbackResponse.parse(await res.json());
}

export function gateUrl(runId: string, gateId: string, wait?: number): string {
  const query = new URLSearchParams({ run: runId });
  if (wait !== undefined) query.set('wait', String(wait));
  return `${BASE}/v1/gates/${gateId}?${query}`;
}

export function fetchGate(runId: string, gateId: string, wait?: number, headers = authHeaders()): Promise<Response> {
  return SELF.fetch(gateUrl(runId, gateId, wait), { headers });
}

/** GET /v1/gates/:gateId that must succeed; returns the validated view. */
export async function getGate(runId: string, gateId: string, wait?: number): Promise<GateView> {
  const res = await fetchGate(runId, gateId, wait);
  expect(res.status).toBe(200);
  return GateView.parse(await res.json());
}

export function postCancel(body: unknown, headers = authHeaders()): Promise<Response> {
  return SELF.fetch(`${BASE}/v1/runs/cancel`, { method: 'POST', headers, body: JSON.stringify(body) });
}

/** Asserts the SPEC's error shape: JSON `{error, message}`, no stack frames. Returns the body. */
export async function expectError(
  res: Response,
  status: number,
  error?: string,
): Promise<Record<string, unknown> & { error: string; message: string }> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  const text = await res.text();
  expect(text).not.toMatch(/\bat \S+ \(|\n\s+at /);
  expect(text).not.toMatch(/\.ts:\d+/);
  const body: unknown = JSON.parse(text);
  const parsed = ErrorBody.parse(body);
  if (error !== undefined) expect(parsed.error).toBe(error);
  expect(parsed.message.length).toBeGreaterThan(0);
  return { ...(body as Record<string, unknown>), ...parsed };
}

export function postTarget(body: unknown, headers = authHeaders()): Promise<Response> {
  return SELF.fetch(`${BASE}/v1/runs/targets`, { method: 'POST', headers, body: JSON.stringify(body) });
}

/** POST /v1/runs/targets that must be answered 200; returns the record. */
export async function reportTarget(body: ReportTargetRequest): Promise<TargetRecord> {
  const res = await postTarget(body);
  expect(res.status).toBe(200);
  return TargetRecord.parse(await res.json());
}

export function fetchTarget(runId: string, target: string, wait?: number, headers = authHeaders()): Promise<Response> {
  const query = new URLSearchParams({ run: runId, target });
  if (wait !== undefined) query.set('wait', String(wait));
  return SELF.fetch(`${BASE}/v1/runs/targets?${query}`, { headers });
}

/** GET /v1/runs/targets that must succeed; returns the validated record. */
export async function getTarget(runId: string, target: string, wait?: number): Promise<TargetRecord> {
  const res = await fetchTarget(runId, target, wait);
  expect(res.status).toBe(200);
  return TargetRecord.parse(await res.json());
}

/** An approval page as a browser gets it: status, HTML, the cookie nonce and the form's csrf field. */
export type OpenedPage = { res: Response; html: string; nonce: string | null; csrf: string | null };

/** GET an approval page, sending `cookie` when given. */
export async function openApproval(url: string, cookie?: string): Promise<OpenedPage> {
  const res = await SELF.fetch(url, { headers: cookie ? { cookie } : {} });
  const html = await res.text();
  const nonce = /hookgate_csrf=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? null;
  const csrf = /name="csrf" value="([^"]*)"/.exec(html)?.[1] ?? null;
  return { res, html, nonce, csrf };
}

/** POST the approval form: `fields` urlencoded, the nonce as the hookgate_csrf cookie when given. */
export function postApproval(
  url: string,
  fields: Record<string, string>,
  options: { nonce?: string | null; origin?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...options.headers };
  if (options.nonce) headers.cookie = `hookgate_csrf=${options.nonce}`;
  if (options.origin !== undefined) headers.origin = options.origin;
  return SELF.fetch(url, { method: 'POST', headers, body: new URLSearchParams(fields).toString(), redirect: 'manual' });
}

/** Posts `fields` with the csrf field and cookie of an opened page, from the relay's own origin. */
export function submitPage(url: string, page: OpenedPage, fields: Record<string, string>): Promise<Response> {
  return postApproval(url, { csrf: page.csrf ?? '', ...fields }, { nonce: page.nonce, origin: new URL(url).origin });
}

/** Opens the page and posts its form as a browser would: the decision must be recorded (303 back to the page). */
export async function decideOnPage(
  url: string,
  decision: 'approve' | 'reject',
  fields: Record<string, string> = {},
): Promise<void> {
  const page = await openApproval(url);
  expect(page.res.status).toBe(200);
  const res = await submitPage(url, page, { decision, comment: '', approver: '', ...fields });
  expect(res.status).toBe(303);
}

/** The headers every approval page carries, whatever its status. */
export function expectPageHeaders(res: Response): void {
  expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(res.headers.get('content-security-policy')).toBe(
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  expect(res.headers.get('referrer-policy')).toBe('same-origin');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('x-robots-tag')).toBe('noindex');
}

/** The token part of an approval URL. */
export function approvalTokenOf(approvalUrl: string): string {
  const match = /\/approve\/([^/]+)$/.exec(approvalUrl);
  if (!match?.[1]) throw new Error(`not an approval URL: ${approvalUrl}`);
  return match[1];
}

export function runStub(runId: string): DurableObjectStub<RunObject> {
  return env.RUNS.get(env.RUNS.idFromName(runId));
}

/** The Durable Object's scheduled alarm, read from inside the object. */
export function alarmOf(runId: string): Promise<number | null> {
  return runInObject(runId, (state) => state.storage.getAlarm());
}

/** Runs `callback` inside the run's Durable Object with its state (storage, alarm). */
export function runInObject<R>(runId: string, callback: (state: DurableObjectState) => R | Promise<R>): Promise<R> {
  return runInDurableObject(runStub(runId), (_instance: RunObject, state) => callback(state));
}

/**
 * Moves a gate's deadline into the past in the object's own table without touching the scheduled
 * alarm: `runDurableObjectAlarm` then plays a due alarm without the test sleeping.
 */
export function expireInStorage(runId: string, gateId: string): Promise<void> {
  return runInObject(runId, (state) => {
    state.storage.sql.exec('UPDATE gates SET deadline = ? WHERE id = ?', Date.now() - 1000, gateId);
  });
}

/** The token part of a callback URI. */
export function tokenOf(callbackUri: string): string {
  const match = /\/cb\/([^/]+)$/.exec(callbackUri);
  if (!match?.[1]) throw new Error(`not a callback URI: ${callbackUri}`);
  return match[1];
}

/** Replaces the character at `index` of `text` with a different base64url character. */
export function alterChar(text: string, index: number): string {
  const current = text[index];
  const replacement = current === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}
