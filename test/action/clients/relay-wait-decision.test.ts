/** waitForDecision (action/clients/relay.ts): long-polls a gate through logging, progress, outages and deadlines. */
import { describe, expect, it } from 'vitest';
import { waitForDecision } from '../../../action/clients/relay.ts';
import type { GateView } from '../../../shared/protocol.ts';
import { FakeClock, gateView } from '../fakes.ts';
import { client, longPoll, networkError } from './relay-fakes.ts';

/** The longest long-poll the client asks for (POLL_WINDOW_SECONDS of action/clients/relay.ts), in seconds. */
const POLL_WINDOW_SECONDS = 25;

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

  it('passes on each new progress report once, by its number', async () => {
    const clock = new FakeClock(0);
    const p = (message: string, seq: number) => ({ seq, at: seq, message });
    const answers = [
      gateView({ progress: [p('already known', 1), p('migrating 1/2', 2)] }),
      gateView({ progress: [p('already known', 1), p('migrating 1/2', 2)] }),
      gateView({ progress: [p('already known', 1), p('migrating 1/2', 2), p('migrating 2/2', 3)] }),
      gateView({ state: 'succeeded', progress: [p('already known', 1), p('migrating 1/2', 2), p('migrating 2/2', 3)] }),
    ];
    const { relay } = client(longPoll(clock, () => answers.shift() ?? gateView({ state: 'failed' })));
    const seen: string[] = [];
    const result = await waitForDecision(relay, gateView({ progress: [p('already known', 1)] }), {
      clock,
      onProgress: (message) => seen.push(message),
    });
    expect(result.state).toBe('succeeded');
    expect(seen).toEqual(['migrating 1/2', 'migrating 2/2']);
  });

  it('tells the relay with every poll the number of the latest report it passed on, so a newer one answers at once', async () => {
    const clock = new FakeClock(0);
    const p = (seq: number) => ({ seq, at: seq, message: `r${seq}` });
    const answers = [
      gateView({ progress: [p(1), p(2)] }),
      gateView({ progress: [p(1), p(2)] }),
      gateView({ progress: [p(2), p(3), p(4)] }),
      gateView({ state: 'succeeded', progress: [p(2), p(3), p(4)] }),
    ];
    const { relay, requests } = client(longPoll(clock, () => answers.shift() ?? gateView({ state: 'failed' })));
    const passedOn: string[] = [];
    await waitForDecision(relay, gateView({ progress: [p(1)] }), { clock, onProgress: (message) => passedOn.push(message) });
    expect(passedOn).toEqual(['r2', 'r3', 'r4']);
    expect(requests.map((r) => new URL(r.url).searchParams.get('seen'))).toEqual(['1', '2', '2', '4']);
  });

  it('logs all 56 reports of an external system in order, though the relay keeps only the latest 50', async () => {
    const clock = new FakeClock(0);
    const relayKeeps = 50;
    const kept: GateView['progress'] = [];
    let posted = 0;
    /** The external system posts 12 reports between two polls, and decides after its 56th. */
    const { relay } = client(
      longPoll(clock, (at) => {
        for (let i = 0; i < 12 && posted < 56; i += 1) {
          posted += 1;
          kept.push({ seq: posted, at, message: `step ${posted}` });
          if (kept.length > relayKeeps) kept.shift();
        }
        return gateView({ state: posted === 56 ? 'succeeded' : 'pending', progress: [...kept] });
      }),
    );
    const seen: string[] = [];
    const result = await waitForDecision(relay, gateView(), { clock, onProgress: (message) => seen.push(message) });
    expect(result.state).toBe('succeeded');
    expect(kept[0]?.seq).toBe(7);
    expect(seen).toEqual(Array.from({ length: 56 }, (_, i) => `step ${i + 1}`));
  });

  it('passes reports on in their number’s order whatever order they come in', async () => {
    const clock = new FakeClock(0);
    const p = (seq: number) => ({ seq, at: 0, message: `r${seq}` });
    const answers = [gateView({ state: 'succeeded', progress: [p(3), p(1), p(2)] })];
    const { relay } = client(longPoll(clock, () => answers.shift() ?? gateView({ state: 'failed' })));
    const seen: string[] = [];
    await waitForDecision(relay, gateView(), { clock, onProgress: (message) => seen.push(message) });
    expect(seen).toEqual(['r1', 'r2', 'r3']);
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
