/**
 * Gates on the real local relay for the measurements: registration and
 * callbacks over plain HTTP (as an external system sends them), and the action's
 * own RelayClient for waiting.
 */
import { RelayClient } from '../action/clients/relay.ts';
import { MAX_GATES_PER_RUN, RegisterGateResponse } from '../shared/protocol.ts';
import type { GateView } from '../shared/protocol.ts';
import { mapLimit } from './stats.ts';

export interface BenchGate {
  view: GateView;
  callbackUri: string;
}

export interface RelayTarget {
  url: string;
  token: string;
}

/** How many registrations the bench sends at once while it sets up gates. */
const REGISTER_CONCURRENCY = 32;

async function rawRegister(relay: RelayTarget, runId: string, stepKey: string, timeoutSeconds: number): Promise<Record<string, unknown>> {
  const response = await fetch(`${relay.url}/v1/gates`, {
    method: 'POST',
    headers: { authorization: `Bearer ${relay.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ runId, stepKey, target: 'bench', phase: 'strategy', name: stepKey, timeoutSeconds }),
  });
  const text = await response.text();
  if (response.status !== 201 && response.status !== 200) throw new Error(`register answered ${response.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Registers one gate per entry of `runIds` (a run id may repeat: several gates in one run). */
export async function registerGates(relay: RelayTarget, runIds: readonly string[], prefix: string): Promise<BenchGate[]> {
  return mapLimit(runIds, REGISTER_CONCURRENCY, async (runId, index) => {
    const answer = RegisterGateResponse.parse(await rawRegister(relay, runId, `${prefix}-${index}`, 3600));
    return { view: answer, callbackUri: answer.callbackUri };
  });
}

/** POSTs a success decision as an external system does; resolves with the HTTP status. */
export async function sendCallback(callbackUri: string, message = 'bench'): Promise<number> {
  const response = await fetch(`${callbackUri}/callback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ success: true, mdMessage: message }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** The action's own relay client. */
export function actionClient(relay: RelayTarget): RelayClient {
  return new RelayClient({ baseUrl: relay.url, token: relay.token });
}

/**
 * Cancels what is left of the runs' gates. A long-poll the bench aborted leaves its waiter (a
 * promise and a 25 s timer) in the Durable Object until the window ends; canceling wakes and
 * drops them, so the next measurement starts with nothing left over in the relay's heap.
 */
export async function cancelRuns(client: RelayClient, runIds: readonly string[]): Promise<void> {
  await mapLimit([...new Set(runIds)], REGISTER_CONCURRENCY, (runId) => client.cancel({ runId, reason: 'bench round over' }));
}

/**
 * `count` run ids: as few runs as possible (`one-run`) or all different (`runs`). A run takes
 * at most MAX_GATES_PER_RUN gates, so `one-run` fills one run with that many and puts the rest
 * in a next one: 1,250 gates are 1,000 in one run (one Durable Object) and 250 in another.
 */
export function runIdsFor(layout: 'one-run' | 'runs', count: number, tag: string): string[] {
  const stamp = `${Date.now().toString(36)}-${tag}`;
  return Array.from({ length: count }, (_, i) => {
    if (layout === 'runs') return `bench/${stamp}/${i}`;
    const run = Math.floor(i / MAX_GATES_PER_RUN);
    return run === 0 ? `bench/${stamp}` : `bench/${stamp}+${run}`;
  });
}
