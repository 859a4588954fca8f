/** Helpers for the deploy queue's tests: requests through SELF, answers parsed with shared/queue.ts. */
import { env, runInDurableObject, SELF } from 'cloudflare:test';
import { expect } from 'vitest';
import { QueueView } from '../../shared/queue.ts';
import type { EnterQueueRequest, QueueKey } from '../../shared/queue.ts';
import type { QueueObject } from '../../relay/queue/object.ts';
import { authHeaders, BASE } from './helpers.ts';

/** A queue no other test uses: storage is shared by the project's tests. */
export function newQueue(repository = 'acme/potato-facts'): QueueKey {
  return { repository, application: `app-${crypto.randomUUID()}` };
}

export function runUrl(n: number): string {
  return `https://github.com/acme/potato-facts/actions/runs/${n}`;
}

export function enterRequest(key: QueueKey, runId: string, overrides: Partial<EnterQueueRequest> = {}): EnterQueueRequest {
  return { ...key, runId, attempt: 1, runUrl: '', strategy: 'enqueueOne', targets: ['staging'], ...overrides };
}

export function postQueue(route: 'enter' | 'renew' | 'leave', body: unknown, headers = authHeaders()): Promise<Response> {
  return SELF.fetch(`${BASE}/v1/queue/${route}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** A queue route that must answer 200; the validated view. */
export async function queueCall(route: 'enter' | 'renew' | 'leave', body: unknown): Promise<QueueView> {
  const res = await postQueue(route, body);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return QueueView.parse(JSON.parse(text));
}

export async function lookUp(key: QueueKey, runId: string): Promise<QueueView> {
  const query = new URLSearchParams({ ...key, run: runId });
  const res = await SELF.fetch(`${BASE}/v1/queue?${query}`, { headers: authHeaders() });
  expect(res.status).toBe(200);
  return QueueView.parse(await res.json());
}

export function queueStub(key: QueueKey): DurableObjectStub<QueueObject> {
  const namespace = env.QUEUES;
  if (!namespace) throw new Error('the relay tests need the QUEUES binding (relay/wrangler.jsonc)');
  return namespace.get(namespace.idFromName(JSON.stringify([key.repository.toLowerCase(), key.application])));
}

/** Moves `runId`'s lease end to `at` in storage, as time passing would. */
export function setLease(key: QueueKey, runId: string, at: number): Promise<void> {
  return runInDurableObject(queueStub(key), (_instance: QueueObject, state) => {
    state.storage.sql.exec('UPDATE members SET lease_until = ? WHERE run_id = ?', at, runId);
  });
}

/** The queue's alarm and whether it stores anything at all. */
export function storageOf(key: QueueKey): Promise<{ alarm: number | null; tables: string[] }> {
  return runInDurableObject(queueStub(key), async (_instance: QueueObject, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'")
      .toArray()
      .map((row) => row.name);
    return { alarm: await state.storage.getAlarm(), tables };
  });
}
