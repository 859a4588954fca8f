/** The action's client of the deploy queue's routes (action/clients/queue.ts). */
import { describe, expect, it } from 'vitest';
import { QueueClient } from '../../../action/clients/queue.ts';
import { RelayError } from '../../../action/clients/relay.ts';
import { FakeClock, within } from '../fakes.ts';
import { fakeFetch, networkError } from './relay-fakes.ts';
import type { Handler } from './relay-fakes.ts';

const KEY = { repository: 'octo/app', application: 'potato-facts' };
const HOLDING = { position: 'holding', holder: null, replacedBy: null };

function queueClient(handler: Handler) {
  const fake = fakeFetch(handler);
  const clock = new FakeClock();
  return { client: new QueueClient({ baseUrl: 'http://127.0.0.1:8787/', token: 't0ken', fetch: fake.fetch, clock }), requests: fake.requests, clock };
}

describe('QueueClient', () => {
  it('posts to /v1/queue/<route> with the bearer credential and answers the validated view', async () => {
    const { client, requests } = queueClient(() => Response.json(HOLDING));
    expect(await client.leave({ ...KEY, runId: 'octo/app/42', target: 'prod' })).toEqual(HOLDING);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.method).toBe('POST');
    expect(requests[0]?.url).toBe('http://127.0.0.1:8787/v1/queue/leave');
    expect(requests[0]?.headers.get('authorization')).toBe('Bearer t0ken');
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ ...KEY, runId: 'octo/app/42', target: 'prod' });
  });

  it('tries again through network errors and 503s, with backoff', async () => {
    let calls = 0;
    const { client, clock } = queueClient(() => {
      calls++;
      if (calls === 1) networkError();
      if (calls === 2) return Response.json({ error: 'unavailable', message: 'busy' }, { status: 503 });
      return Response.json(HOLDING);
    });
    expect((await client.renew({ ...KEY, runId: 'r' })).position).toBe('holding');
    expect(calls).toBe(3);
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  it('does not try a 404 again: it is a RelayError with the relay’s message', async () => {
    const { client, requests } = queueClient(() => Response.json({ error: 'not_found', message: 'no route for POST /v1/queue/enter' }, { status: 404 }));
    const request = { ...KEY, runId: 'r', attempt: 1, runUrl: '', strategy: 'reject' as const, targets: ['prod'] };
    const error: unknown = await client.enter(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).status).toBe(404);
    expect((error as RelayError).message).toBe('relay answered 404: no route for POST /v1/queue/enter');
    expect(requests).toHaveLength(1);
  });

  it('refuses an answer that is not a queue view', async () => {
    const { client } = queueClient(() => Response.json({ position: 'first' }));
    await expect(client.renew({ ...KEY, runId: 'r' })).rejects.toThrow('relay sent an unexpected answer to POST /v1/queue/renew');
  });

  it('talks to the relay as RelayClient does: a network error names its cause, a credential that fails names the OIDC token', async () => {
    const { client } = queueClient(networkError);
    await expect(client.leave({ ...KEY, runId: 'r' })).rejects.toThrow('relay unreachable: fetch failed: connect ECONNREFUSED 127.0.0.1:8787');
    let asked = 0;
    const fake = fakeFetch(() => Response.json(HOLDING));
    const token = (): Promise<string> => (++asked === 1 ? Promise.reject(new Error('token service down')) : Promise.resolve('oidc-token'));
    const oidc = new QueueClient({ baseUrl: 'http://127.0.0.1:8787', token, fetch: fake.fetch, clock: new FakeClock() });
    expect(await oidc.renew({ ...KEY, runId: 'r' })).toEqual(HOLDING);
    expect(asked).toBe(2);
    expect(fake.requests.map((r) => r.headers.get('authorization'))).toEqual(['Bearer oidc-token']);
    const failing = new QueueClient({ baseUrl: 'http://127.0.0.1:8787', token: () => Promise.reject(new Error('token service down')), fetch: fake.fetch, clock: new FakeClock() });
    await expect(failing.enter({ ...KEY, runId: 'r', attempt: 1, runUrl: '', strategy: 'reject', targets: ['prod'] })).rejects.toThrow(
      'could not get an OIDC token for the relay: token service down',
    );
  });

  it('stops trying at once when its signal aborts', async () => {
    const abort = new AbortController();
    const { client, requests } = queueClient(() => {
      abort.abort(new Error('the job left'));
      return Response.json({ error: 'unavailable', message: 'busy' }, { status: 503 });
    });
    await expect(client.renew({ ...KEY, runId: 'r' }, abort.signal)).rejects.toThrow();
    expect(requests).toHaveLength(1);
  });

  it('stops at once when its signal aborts while the OIDC token is asked for (a token service that hangs)', async () => {
    const abort = new AbortController();
    const fake = fakeFetch(() => Response.json(HOLDING));
    const hanging = new QueueClient({ baseUrl: 'http://127.0.0.1:8787', token: () => new Promise<string>(() => undefined), fetch: fake.fetch, clock: new FakeClock() });
    const renewing = hanging.renew({ ...KEY, runId: 'r' }, abort.signal);
    abort.abort(new Error('the job parked'));
    await expect(within(2000, renewing)).rejects.toThrow('the job parked');
    expect(fake.requests).toEqual([]);
  });
});
