import { describe, expect, it } from 'vitest';
import type { GateView } from '../../../shared/protocol.ts';
import { POLL_WINDOW_SECONDS, RelayClient, RelayError, waitForDecision, waitForTarget } from '../../../action/clients/relay.ts';
import type { TargetRecord } from '../../../shared/protocol.ts';
import { FakeClock, GATE_ID, gateView } from '../fakes.ts';

interface SeenRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string | null;
}

type Handler = (request: SeenRequest, signal: AbortSignal | null) => Response | Promise<Response>;

/** A fetch that answers from `handler` and records what it was asked. */
function fakeFetch(handler: Handler): { fetch: typeof fetch; requests: SeenRequest[] } {
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

const networkError = (): never => {
  throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8787') });
};

const client = (handler: Handler): { relay: RelayClient; requests: SeenRequest[] } => {
  const fake = fakeFetch(handler);
  return { relay: new RelayClient({ baseUrl: 'http://127.0.0.1:8787/', token: 't0ken-value', fetch: fake.fetch }), requests: fake.requests };
};

/** The relay's long-poll: holds `wait` seconds of virtual time, then answers with `answer()`. */
function longPoll(clock: FakeClock, answer: (at: number) => GateView): Handler {
  return (request) => {
    const wait = Number(new URL(request.url).searchParams.get('wait'));
    clock.advance(wait * 1000);
    return Response.json(answer(clock.now()));
  };
}

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

  it('long-polls with GET, the run and the window in the query, and no body', async () => {
    const { relay, requests } = client(() => Response.json(gateView()));
    await relay.poll('octo/app/42', GATE_ID, 25);
    expect(requests[0]?.method).toBe('GET');
    expect(requests[0]?.url).toBe(`http://127.0.0.1:8787/v1/gates/${GATE_ID}?run=octo%2Fapp%2F42&wait=25`);
    expect(requests[0]?.body).toBeNull();
    expect(requests[0]?.headers.has('content-type')).toBe(false);
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

describe('waitForDecision', () => {
  it('returns a decided gate without asking the relay', async () => {
    const { relay, requests } = client(networkError);
    const decided = gateView({ state: 'succeeded', message: 'ok' });
    await expect(waitForDecision(relay, decided, { clock: new FakeClock(0) })).resolves.toBe(decided);
    expect(requests).toEqual([]);
  });

  it('logs at least once a minute during a 5-minute wait of pending long-polls, then returns the decision', async () => {
    const clock = new FakeClock(0);
    const decision = 5 * 60_000;
    const { relay, requests } = client(
      longPoll(clock, (at) => (at >= decision ? gateView({ state: 'succeeded', message: 'All tests passed', decidedAt: at }) : gateView())),
    );
    const waited: number[] = [];
    const result = await waitForDecision(relay, gateView(), { clock, onWaiting: (elapsed) => waited.push(elapsed) });
    expect(result).toMatchObject({ state: 'succeeded', message: 'All tests passed' });
    expect(clock.now()).toBe(decision);
    expect(waited.length).toBeGreaterThanOrEqual(4);
    const marks = [0, ...waited, decision];
    for (let i = 1; i < marks.length; i++) expect(marks[i]! - marks[i - 1]!).toBeLessThanOrEqual(60_000);
    const windows = requests.map((r) => Number(new URL(r.url).searchParams.get('wait')));
    expect(Math.max(...windows)).toBeLessThanOrEqual(POLL_WINDOW_SECONDS);
    expect(Math.min(...windows)).toBeGreaterThanOrEqual(1);
  });

  it('sizes the long-polls to its logging interval', async () => {
    const clock = new FakeClock(0);
    const { relay, requests } = client(longPoll(clock, (at) => (at >= 30_000 ? gateView({ state: 'failed' }) : gateView())));
    const waited: number[] = [];
    await waitForDecision(relay, gateView(), { clock, waitingLogEveryMs: 10_000, onWaiting: (elapsed) => waited.push(elapsed) });
    expect(requests.map((r) => new URL(r.url).searchParams.get('wait'))).toEqual(['10', '10', '10']);
    expect(waited).toEqual([10_000, 20_000]);
  });

  it('passes on each new progress report once', async () => {
    const clock = new FakeClock(0);
    const p = (message: string, at: number) => ({ at, message });
    const answers = [
      gateView({ progress: [p('already known', 0), p('migrating 1/2', 1)] }),
      gateView({ progress: [p('already known', 0), p('migrating 1/2', 1)] }),
      gateView({ progress: [p('already known', 0), p('migrating 1/2', 1), p('migrating 2/2', 2)] }),
      gateView({ state: 'succeeded', progress: [p('already known', 0), p('migrating 1/2', 1), p('migrating 2/2', 2)] }),
    ];
    const { relay } = client(longPoll(clock, () => answers.shift() ?? gateView({ state: 'failed' })));
    const seen: string[] = [];
    const result = await waitForDecision(relay, gateView({ progress: [p('already known', 0)] }), {
      clock,
      onProgress: (message) => seen.push(message),
    });
    expect(result.state).toBe('succeeded');
    expect(seen).toEqual(['migrating 1/2', 'migrating 2/2']);
  });

  it('survives network errors and 5xx answers with growing backoff, reset by a good answer', async () => {
    const clock = new FakeClock(0);
    const script: (() => Response)[] = [
      networkError,
      () => Response.json({ error: 'internal', message: 'boom' }, { status: 503 }),
      () => new Response('overloaded', { status: 500 }),
      () => Response.json(gateView()),
      networkError,
      () => Response.json(gateView({ state: 'succeeded' })),
    ];
    const { relay } = client(() => (script.shift() ?? networkError)());
    const errors: string[] = [];
    const result = await waitForDecision(relay, gateView(), {
      clock,
      onRelayError: (error, retryIn) => errors.push(`${error.status ?? 'network'} ${retryIn}`),
    });
    expect(result.state).toBe('succeeded');
    expect(errors).toEqual(['network 500', '503 1000', '500 2000', 'network 500']);
    expect(clock.sleeps).toEqual([500, 1000, 2000, 500]);
  });

  it('caps the backoff at 10 seconds and keeps logging the wait during an outage', async () => {
    const clock = new FakeClock(0);
    const { relay } = client(() => (clock.now() >= 5 * 60_000 ? Response.json(gateView({ state: 'succeeded' })) : networkError()));
    const waited: number[] = [];
    const result = await waitForDecision(relay, gateView(), { clock, onWaiting: (elapsed) => waited.push(elapsed) });
    expect(result.state).toBe('succeeded');
    expect(Math.max(...clock.sleeps)).toBe(10_000);
    expect(waited.length).toBeGreaterThanOrEqual(4);
  });

  it('throws a non-retryable answer at once', async () => {
    const clock = new FakeClock(0);
    const { relay, requests } = client(() => Response.json({ error: 'not_found', message: 'no such gate' }, { status: 404 }));
    await expect(waitForDecision(relay, gateView(), { clock })).rejects.toMatchObject({ status: 404, message: 'relay answered 404: no such gate' });
    expect(requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('gives up on an unreachable relay as timed-out only after the deadline plus a grace', async () => {
    const clock = new FakeClock(0);
    const deadline = 60_000;
    const { relay } = client(networkError);
    const errorsAt: number[] = [];
    const result = await waitForDecision(relay, gateView({ deadline }), {
      clock,
      onRelayError: () => errorsAt.push(clock.now()),
    });
    expect(result.state).toBe('timed-out');
    expect(result.message).toMatch(/^no decision by the deadline, and the relay did not answer for 2m/);
    expect(result.decidedAt).toBe(clock.now());
    expect(clock.now()).toBeGreaterThan(deadline + 2 * 60_000);
    expect(clock.now()).toBeLessThanOrEqual(deadline + 2 * 60_000 + 10_000);
    expect(errorsAt.filter((at) => at > deadline).length).toBeGreaterThan(5);
  });

  it('keeps asking a relay that still says pending past the deadline, and takes its timed-out', async () => {
    const clock = new FakeClock(0);
    const deadline = 60_000;
    const { relay } = client(
      longPoll(clock, (at) =>
        at >= deadline + 30_000 ? gateView({ deadline, state: 'timed-out', message: 'the gate timed out' }) : gateView({ deadline }),
      ),
    );
    const result = await waitForDecision(relay, gateView({ deadline }), { clock });
    expect(result).toMatchObject({ state: 'timed-out', message: 'the gate timed out' });
    expect(clock.now()).toBeGreaterThanOrEqual(deadline + 30_000);
    expect(clock.now()).toBeLessThan(deadline + 2 * 60_000);
  });

  it('ends as timed-out when the relay keeps saying pending for longer than the grace', async () => {
    const clock = new FakeClock(0);
    const { relay } = client(longPoll(clock, () => gateView({ deadline: 60_000 })));
    const result = await waitForDecision(relay, gateView({ deadline: 60_000 }), { clock });
    expect(result.state).toBe('timed-out');
    expect(clock.now()).toBeGreaterThan(180_000);
    expect(clock.now()).toBeLessThanOrEqual(180_000 + POLL_WINDOW_SECONDS * 1000);
  });

  it("stops a pending long-poll when the signal aborts, with the signal's reason", async () => {
    const { relay } = client(
      (_request, signal) =>
        new Promise<Response>((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true })),
    );
    const controller = new AbortController();
    const reason = new Error('a sibling step failed first');
    const waiting = waitForDecision(relay, gateView(), { clock: new FakeClock(0), signal: controller.signal });
    setTimeout(() => controller.abort(reason), 5);
    await expect(waiting).rejects.toBe(reason);
  });

  it('stops during a backoff when the signal aborts', async () => {
    const clock = new FakeClock(0);
    const { relay } = client(networkError);
    const controller = new AbortController();
    const reason = new Error('canceled');
    let errors = 0;
    const waiting = waitForDecision(relay, gateView(), {
      clock,
      signal: controller.signal,
      onRelayError: () => {
        if (++errors === 3) controller.abort(reason);
      },
    });
    await expect(waiting).rejects.toBe(reason);
    expect(errors).toBe(3);
  });
});

describe('waitForTarget', () => {
  const record = (fields: Partial<TargetRecord>): TargetRecord => ({
    runId: 'octo/app/42',
    target: 'staging',
    attempt: 1,
    status: 'running',
    message: '',
    updatedAt: 0,
    ...fields,
  });

  /** The relay's target long-poll: answers from `answers` in turn, holding `wait` seconds of virtual time. */
  function targetPoll(clock: FakeClock, answers: (TargetRecord | 'down')[]): Handler {
    let i = 0;
    return (request) => {
      clock.advance(Number(new URL(request.url).searchParams.get('wait')) * 1000);
      const answer = answers[Math.min(i++, answers.length - 1)];
      if (answer === 'down') return networkError();
      return Response.json(answer);
    };
  }

  it('asks once without waiting, then long-polls until the record is final', async () => {
    const clock = new FakeClock(0);
    const { relay, requests } = client(targetPoll(clock, [record({ status: 'unknown', attempt: 0 }), record({}), record({ status: 'failed', message: 'tests failed' })]));
    const result = await waitForTarget(relay, 'octo/app/42', 'staging', { clock, maxWaitMs: 3600_000 });
    expect(result).toMatchObject({ status: 'failed', message: 'tests failed' });
    expect(requests.map((r) => new URL(r.url).searchParams.get('wait'))).toEqual(['0', String(POLL_WINDOW_SECONDS), String(POLL_WINDOW_SECONDS)]);
    expect(requests[0]?.url).toBe('http://127.0.0.1:8787/v1/runs/targets?run=octo%2Fapp%2F42&target=staging&wait=0');
  });

  it('answers a final record at once', async () => {
    const { relay, requests } = client(targetPoll(new FakeClock(0), [record({ status: 'succeeded' })]));
    await expect(waitForTarget(relay, 'r', 'staging', { clock: new FakeClock(0), maxWaitMs: 1000 })).resolves.toMatchObject({ status: 'succeeded' });
    expect(requests).toHaveLength(1);
  });

  it('logs at least once a minute while the target runs, and gives up with the last record after maxWaitMs', async () => {
    const clock = new FakeClock(0);
    const waited: string[] = [];
    const { relay } = client(targetPoll(clock, [record({})]));
    const result = await waitForTarget(relay, 'r', 'staging', {
      clock,
      maxWaitMs: 5 * 60_000,
      onWaiting: (elapsed, current) => waited.push(`${Math.round(elapsed / 60_000)}m ${current.status}`),
    });
    expect(result.status).toBe('running');
    expect(waited).toEqual(['1m running', '2m running', '3m running', '4m running']);
  });

  it('keeps asking through network errors', async () => {
    const clock = new FakeClock(0);
    const errors: string[] = [];
    const { relay } = client(targetPoll(clock, ['down', 'down', record({ status: 'canceled' })]));
    const result = await waitForTarget(relay, 'r', 'staging', { clock, maxWaitMs: 60_000, onRelayError: (e) => errors.push(e.message) });
    expect(result.status).toBe('canceled');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain('relay unreachable');
  });
});
