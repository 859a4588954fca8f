/** Fakes of the relay for the tests of action/clients/relay.ts: a recording fetch and long-polls on a fake clock. */
import { RelayClient } from '../../../action/clients/relay.ts';
import type { GateView } from '../../../shared/protocol.ts';
import type { FakeClock } from '../fakes.ts';

export interface SeenRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string | null;
}

export type Handler = (request: SeenRequest, signal: AbortSignal | null) => Response | Promise<Response>;

/** A fetch that answers from `handler` and records what it was asked. */
export function fakeFetch(handler: Handler): { fetch: typeof fetch; requests: SeenRequest[] } {
  const requests: SeenRequest[] = [];
  const impl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request: SeenRequest = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : null,
    };
    requests.push(request);
    if (init?.signal?.aborted) throw init.signal.reason;
    return handler(request, init?.signal ?? null);
  };
  return { fetch: impl as typeof fetch, requests };
}

export const networkError = (): never => {
  throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8787') });
};

export const client = (handler: Handler): { relay: RelayClient; requests: SeenRequest[] } => {
  const fake = fakeFetch(handler);
  return { relay: new RelayClient({ baseUrl: 'http://127.0.0.1:8787/', token: 't0ken-value', fetch: fake.fetch }), requests: fake.requests };
};

/** The relay's long-poll: holds `wait` seconds of virtual time, then answers with `answer()`. */
export function longPoll(clock: FakeClock, answer: (at: number) => GateView): Handler {
  return (request) => {
    const wait = Number(new URL(request.url).searchParams.get('wait'));
    clock.advance(wait * 1000);
    return Response.json(answer(clock.now()));
  };
}
