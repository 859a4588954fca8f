/** The chaos run's requests: callbacks as an external system sends them, and reading a gate back. */
import { RelayClient } from '../../action/clients/relay.ts';
import type { RelayTarget } from '../relay-gates.ts';
import { sleep } from '../stats.ts';

/** A callback's fate: its HTTP status and when it arrived (performance.now()), or no answer (null). */
export interface Sent {
  status: number | null;
  at: number;
}

/** POSTs a success decision to the gate's callback URI; never throws (a reset or refused connection is `status: null`). */
export async function postDecision(callbackUri: string, message = 'chaos'): Promise<Sent> {
  try {
    const response = await fetch(`${callbackUri}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ success: true, mdMessage: message }),
      signal: AbortSignal.timeout(30_000),
    });
    await response.arrayBuffer();
    return { status: response.status, at: performance.now() };
  } catch {
    return { status: null, at: performance.now() };
  }
}

export const isOk = (status: number | null): boolean => status !== null && status >= 200 && status < 300;

/**
 * Sends the callback again until the relay answers 2xx, as an external system retries a callback
 * it got no answer for; resolves with the number of sends (it gives up after `tries`).
 */
export async function retryDecision(callbackUri: string, tries = 40): Promise<{ sends: number; ok: boolean }> {
  for (let sends = 1; sends <= tries; sends++) {
    if (isOk((await postDecision(callbackUri)).status)) return { sends, ok: true };
    await sleep(250);
  }
  return { sends: tries, ok: false };
}

export function relayClient(relay: RelayTarget, fetchImpl?: typeof fetch): RelayClient {
  return new RelayClient({ baseUrl: relay.url, token: relay.token, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
}

/** The gate's state as the relay stores it (`wait=0`: no long-poll), asking again through transient errors. */
export async function storedState(client: RelayClient, runId: string, gateId: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await client.poll(runId, gateId, 0)).state;
    } catch (error) {
      if (attempt >= 20) throw error;
      await sleep(250);
    }
  }
}

/** A seeded PRNG (mulberry32), so a chaos run can be repeated with `--seed`. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
