/** The relay client (action/clients/relay.ts): requests, answers and errors. */
import { describe, expect, it } from 'vitest';
import { RelayError } from '../../../action/clients/relay.ts';
import { GATE_ID, gateView } from '../fakes.ts';
import { client, networkError } from './relay-fakes.ts';

describe('RelayClient', () => {
  it('registers a gate with the bearer token and a JSON body, and validates the answer', async () => {
    const registered = { ...gateView(), callbackUri: 'https://relay.example/cb/abc', approvalUrl: null, created: true };
    const { relay, requests } = client(() => Response.json(registered));
    const request = {
      runId: 'octo/app/42',
      stepKey: 'attempt-1/staging/beforeDeployment/0/Run-Tests',
      target: 'staging',
      phase: 'beforeDeployment' as const,
      name: 'Run-Tests',
      timeoutSeconds: 3600,
    };
    await expect(relay.register(request)).resolves.toEqual(registered);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.method).toBe('POST');
    expect(requests[0]?.url).toBe('http://127.0.0.1:8787/v1/gates');
    expect(requests[0]?.headers.get('authorization')).toBe('Bearer t0ken-value');
    expect(requests[0]?.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual(request);
  });

  it('reports a called webhook with POST /v1/gates/called and validates the gate it answers', async () => {
    const { relay, requests } = client(() => Response.json(gateView({ heartbeatSeconds: 60, lastHeardAt: 5 })));
    await expect(relay.gateCalled({ runId: 'octo/app/42', gateId: GATE_ID })).resolves.toMatchObject({ heartbeatSeconds: 60, lastHeardAt: 5 });
    expect(requests[0]?.method).toBe('POST');
    expect(requests[0]?.url).toBe('http://127.0.0.1:8787/v1/gates/called');
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ runId: 'octo/app/42', gateId: GATE_ID });
    const odd = client(() => Response.json({ ok: true }));
    await expect(odd.relay.gateCalled({ runId: 'octo/app/42', gateId: GATE_ID })).rejects.toThrow('relay sent an unexpected answer to POST /v1/gates/called');
  });

  it('long-polls with GET, the run and the window in the query, and no body', async () => {
    const { relay, requests } = client(() => Response.json(gateView()));
    await relay.poll('octo/app/42', GATE_ID, 25);
    expect(requests[0]?.method).toBe('GET');
    expect(requests[0]?.url).toBe(`http://127.0.0.1:8787/v1/gates/${GATE_ID}?run=octo%2Fapp%2F42&wait=25`);
    expect(requests[0]?.body).toBeNull();
    expect(requests[0]?.headers.has('content-type')).toBe(false);
  });

  it('adds the latest report number it has as seen= when given one', async () => {
    const { relay, requests } = client(() => Response.json(gateView()));
    await relay.poll('octo/app/42', GATE_ID, 25, undefined, 0);
    await relay.poll('octo/app/42', GATE_ID, 25, undefined, 7);
    expect(requests.map((r) => r.url)).toEqual([
      `http://127.0.0.1:8787/v1/gates/${GATE_ID}?run=octo%2Fapp%2F42&wait=25&seen=0`,
      `http://127.0.0.1:8787/v1/gates/${GATE_ID}?run=octo%2Fapp%2F42&wait=25&seen=7`,
    ]);
  });

  it('cancels a run', async () => {
    const { relay, requests } = client(() => Response.json({ runId: 'octo/app/42', canceled: [GATE_ID] }));
    await expect(relay.cancel({ runId: 'octo/app/42', reason: 'the workflow job was canceled' })).resolves.toEqual({
      runId: 'octo/app/42',
      canceled: [GATE_ID],
    });
    expect(requests[0]?.url).toBe('http://127.0.0.1:8787/v1/runs/cancel');
  });

  it("turns an error answer into a RelayError with the relay's message", async () => {
    const { relay } = client(() => Response.json({ error: 'unauthorized', message: 'bad token' }, { status: 401 }));
    const error = await relay.poll('octo/app/42', GATE_ID, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({ message: 'relay answered 401: bad token', status: 401, retryable: false });
  });

  it('names the status when an error answer is not JSON', async () => {
    const { relay } = client(() => new Response('<html>Bad gateway</html>', { status: 502 }));
    await expect(relay.poll('octo/app/42', GATE_ID, 1)).rejects.toMatchObject({
      message: 'relay answered 502: HTTP 502',
      status: 502,
      retryable: true,
    });
  });

  it('reports a network error as an unreachable relay, with its cause', async () => {
    const { relay } = client(networkError);
    await expect(relay.poll('octo/app/42', GATE_ID, 1)).rejects.toMatchObject({
      message: 'relay unreachable: fetch failed: connect ECONNREFUSED 127.0.0.1:8787',
      status: null,
      retryable: true,
    });
  });

  it('rejects an answer that does not match the protocol, without the query string', async () => {
    const { relay } = client(() => Response.json({ hello: 'world' }));
    await expect(relay.poll('octo/app/42', GATE_ID, 1)).rejects.toThrow(
      new RelayError(`relay sent an unexpected answer to GET /v1/gates/${GATE_ID}`, null),
    );
  });

  it("throws the signal's reason, not a RelayError, when aborted", async () => {
    const { relay } = client(() => Response.json(gateView()));
    const reason = new Error('sibling failed');
    await expect(relay.poll('octo/app/42', GATE_ID, 1, AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('retries only what may change: network errors, 5xx, 408 and 429', () => {
    const retryable = (status: number | null): boolean => new RelayError('x', status).retryable;
    expect([null, 500, 503, 408, 429].map(retryable)).toEqual([true, true, true, true, true]);
    expect([400, 401, 403, 404, 409, 410].map(retryable)).toEqual([false, false, false, false, false, false]);
  });
});
