/** waitForTarget (action/clients/relay.ts): long-polls an upstream target's record until it is final. */
import { describe, expect, it } from 'vitest';
import { waitForTarget } from '../../../action/clients/relay.ts';
import type { TargetRecord } from '../../../shared/protocol.ts';
import { FakeClock } from '../fakes.ts';
import { client, networkError } from './relay-fakes.ts';
import type { Handler } from './relay-fakes.ts';

/** The longest long-poll the client asks for (POLL_WINDOW_SECONDS of action/clients/relay.ts), in seconds. */
const POLL_WINDOW_SECONDS = 25;

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
