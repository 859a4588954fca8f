/** The deploy queue at a deployment's start (action/effects/queue.ts) over the in-memory relay and a scripted queue. */
import { describe, expect, it } from 'vitest';
import type { EnterQueueRequest, LeaveQueueRequest, QueueView, RenewQueueRequest } from '../../../shared/queue.ts';
import { LEASE_SECONDS, MAX_HOLD_SECONDS, RENEW_EVERY_SECONDS } from '../../../shared/queue.ts';
import type { QueueApi } from '../../../action/clients/queue.ts';
import { RelayError } from '../../../action/clients/relay.ts';
import { enterQueue, parkedHoldUntil, QUEUE_GATE, QueuePlace } from '../../../action/effects/queue.ts';
import type { QueueDeps } from '../../../action/effects/queue.ts';
import type { Plan } from '../../../action/plan/plan.ts';
import { target, within } from '../fakes.ts';
import { harness } from './harness.ts';
import type { Harness } from './harness.ts';
import { entry, parkingEffects } from './park-helpers.ts';
import { createContext } from '../../../action/effects/context.ts';

const HOLDER = { runId: 'octo/app/41', attempt: 1, runUrl: 'https://github.com/octo/app/actions/runs/41', since: 0 };
const holding: QueueView = { position: 'holding', holder: null, replacedBy: null };
const waiting: QueueView = { position: 'waiting', holder: HOLDER, replacedBy: null };

type Call = { route: 'enter' | 'renew' | 'leave'; body: EnterQueueRequest | RenewQueueRequest | LeaveQueueRequest };

/** A queue answering `enter` from a script (the last answer repeats), renew and leave with `holding`/`gone`. */
class ScriptedQueue implements QueueApi {
  readonly calls: Call[] = [];
  private readonly answers: (QueueView | Error)[];
  constructor(...answers: (QueueView | Error)[]) {
    this.answers = answers;
  }
  enter(body: EnterQueueRequest): Promise<QueueView> {
    this.calls.push({ route: 'enter', body });
    const answer = this.answers.length > 1 ? this.answers.shift() : this.answers[0];
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer ?? holding);
  }
  renew(body: RenewQueueRequest): Promise<QueueView> {
    this.calls.push({ route: 'renew', body });
    return Promise.resolve(holding);
  }
  leave(body: LeaveQueueRequest): Promise<QueueView> {
    this.calls.push({ route: 'leave', body });
    return Promise.resolve({ position: 'gone', holder: null, replacedBy: null });
  }
}

const queuedPlan = (strategy: Plan['deploymentQueue']): Partial<Plan> => ({ targets: [target('staging'), target('prod')], deploymentQueue: strategy });

function setup(strategy: Plan['deploymentQueue'], queue: ScriptedQueue, h: Harness = harness({ plan: queuedPlan(strategy) })) {
  const ticks: { ms: number; tick: () => void; stopped: boolean }[] = [];
  const deps: QueueDeps = {
    ctx: h.ctx,
    queue,
    targets: ['staging', 'prod'],
    every: (ms, tick) => {
      const timer = { ms, tick, stopped: false };
      ticks.push(timer);
      return () => void (timer.stopped = true);
    },
  };
  return { h, deps, ticks };
}

describe('the deploy queue at the start', () => {
  it('does nothing without ifDeploymentInProgress', async () => {
    const queue = new ScriptedQueue();
    const { deps } = setup(null, queue);
    expect(await enterQueue(deps, new AbortController().signal)).toEqual({ go: true, place: null });
    expect(queue.calls).toEqual([]);
  });

  it('goes on when it holds the application, naming every target of the file, and renews while the job runs', async () => {
    const queue = new ScriptedQueue(holding);
    const { deps, ticks } = setup('reject', queue);
    const start = await enterQueue(deps, new AbortController().signal);
    expect(start.go).toBe(true);
    expect(queue.calls[0]).toEqual({
      route: 'enter',
      body: { repository: 'octo/app', application: 'potato-facts', runId: 'octo/app/42', attempt: 1, runUrl: 'https://github.com/octo/app/actions/runs/42', strategy: 'reject', targets: ['staging', 'prod'] },
    });
    expect(ticks.map((t) => t.ms)).toEqual([RENEW_EVERY_SECONDS * 1000]);
    ticks[0]?.tick();
    await start.place?.leave('staging');
    expect(queue.calls.slice(1)).toEqual([
      { route: 'renew', body: { repository: 'octo/app', application: 'potato-facts', runId: 'octo/app/42' } },
      { route: 'leave', body: { repository: 'octo/app', application: 'potato-facts', runId: 'octo/app/42', target: 'staging' } },
    ]);
    expect(ticks[0]?.stopped).toBe(true);
  });

  it('fails at once, naming the deployment in progress and its run, when another holds the application (reject)', async () => {
    const queue = new ScriptedQueue({ position: 'rejected', holder: HOLDER, replacedBy: null });
    const { h, deps } = setup('reject', queue);
    const start = await enterQueue(deps, new AbortController().signal);
    if (start.go) throw new Error('a rejected deployment must not go on');
    const message = `deployment of potato-facts rejected: octo/app/41 is in progress (${HOLDER.runUrl}) (deploymentConfig.ifDeploymentInProgress.strategy: reject)`;
    expect(start.report).toMatchObject({ result: 'failed', targets: [{ target: 'staging', outcome: 'failed', message, steps: [] }, { target: 'prod', outcome: 'failed', message }] });
    expect(start.place).toBeNull();
    expect(h.relay.requests).toEqual([]);
  });

  it('waits on its queue gate (enqueueOne) and goes on when the relay decides it', async () => {
    const queue = new ScriptedQueue(waiting);
    const { h, deps } = setup('enqueueOne', queue);
    h.relay.decisions.set(QUEUE_GATE, { state: 'succeeded', message: 'the deployment in progress ended; this one goes on' });
    const start = await within(2000, enterQueue(deps, new AbortController().signal));
    expect(start.go).toBe(true);
    const gate = h.relay.gate(QUEUE_GATE);
    expect(gate).toMatchObject({ stepKey: 'attempt-1/staging/#queue/deploy queue', target: 'staging', phase: 'beforeDeployment', kind: 'webhook' });
    expect(gate.deadline - gate.createdAt).toBe(24 * 3600 * 1000);
    expect(queue.calls.map((c) => c.route)).toEqual(['enter', 'enter']);
    expect((queue.calls[1]?.body as EnterQueueRequest).wakeGateId).toBe(gate.gateId);
    expect(h.log.lines).toContain(
      'info: hookgate: deployment octo/app/42 of potato-facts waits in the deploy queue: octo/app/41 is in progress (https://github.com/octo/app/actions/runs/41); it goes on when that one ends (deploymentConfig.ifDeploymentInProgress.strategy: enqueueOne)',
    );
    expect(h.story()).toContain('[staging] deploy queue: the deployment in progress ended; this one goes on');
  });

  it('goes on without waiting when the holder left before the queue gate was registered', async () => {
    const queue = new ScriptedQueue(waiting, holding);
    const { h, deps } = setup('enqueueOne', queue);
    expect((await enterQueue(deps, new AbortController().signal)).go).toBe(true);
    expect(h.relay.requests.filter((r) => r.method === 'GET')).toEqual([]);
  });

  it('ends canceled with the relay’s message when a newer deployment replaces it', async () => {
    const queue = new ScriptedQueue(waiting);
    const { h, deps } = setup('enqueueOne', queue);
    h.relay.decisions.set(QUEUE_GATE, { state: 'failed', message: 'replaced in the deploy queue by https://github.com/octo/app/actions/runs/43' });
    const start = await within(2000, enterQueue(deps, new AbortController().signal));
    if (start.go) throw new Error('a replaced deployment must not go on');
    expect(start.report.result).toBe('canceled');
    expect(start.report.targets[0]).toMatchObject({ outcome: 'canceled', message: 'replaced in the deploy queue by https://github.com/octo/app/actions/runs/43' });
    expect(start.report.targets[0]?.steps).toMatchObject([{ kind: 'webhook', name: QUEUE_GATE, state: 'failed' }]);
  });

  it('ends canceled when the relay answers replaced to the second enter', async () => {
    const replaced: QueueView = { position: 'replaced', holder: HOLDER, replacedBy: { ...HOLDER, runId: 'octo/app/43', runUrl: '' } };
    const { deps } = setup('enqueueOne', new ScriptedQueue(waiting, replaced));
    const start = await enterQueue(deps, new AbortController().signal);
    expect(start.go ? null : start.report.targets[0]?.message).toBe('replaced in the deploy queue by octo/app/43');
  });

  it('fails when the queue gate times out', async () => {
    const queue = new ScriptedQueue(waiting);
    const { h, deps } = setup('enqueueOne', queue);
    h.relay.decisions.set(QUEUE_GATE, { state: 'timed-out', message: 'no decision before the deadline' });
    const start = await within(2000, enterQueue(deps, new AbortController().signal));
    expect(start.go ? null : start.report).toMatchObject({ result: 'failed', targets: [{ message: 'waited in the deploy queue until its timeout (24 hours) and gave up' }, {}] });
  });

  it('says the relay must be updated when it has no queue routes (404)', async () => {
    const { deps } = setup('reject', new ScriptedQueue(new RelayError('relay answered 404: no route for POST /v1/queue/enter', 404)));
    await expect(enterQueue(deps, new AbortController().signal)).rejects.toThrow(
      /^deploymentConfig\.ifDeploymentInProgress\.strategy: the relay has no deploy queue \(relay answered 404: .*\); update the relay/,
    );
  });

  it('parks while it waits in the queue: the queue gate is what the park waits for, and its wait is journaled', async () => {
    const h = harness({ plan: queuedPlan('enqueueOne') });
    h.relay.holdPolls = true;
    const { watch, journal } = parkingEffects(h);
    const ctx = createContext({ ...h.ctx, attempt: 1, watch, journal });
    const { deps } = setup('enqueueOne', new ScriptedQueue(waiting), { ...h, ctx });
    const start = await within(2000, enterQueue(deps, watch.signal));
    if (start.go) throw new Error('a parked deployment must not go on');
    expect(start.report.result).toBe('parked');
    expect(start.place).not.toBeNull();
    expect(watch.parked?.gates).toMatchObject([{ gateId: h.relay.gate(QUEUE_GATE).gateId, name: QUEUE_GATE }]);
    expect(h.relay.requests.some((r) => r.path === '/v1/runs/journal' && (r.body as { key: string }).key === '#queue/staging#called')).toBe(true);
  });

  it('continues a parked wait: the resumed run finds its queue gate decided and goes on', async () => {
    const h = harness({ plan: queuedPlan('enqueueOne') });
    h.relay.registeredAs.set(QUEUE_GATE, { state: 'succeeded', message: 'the deployment in progress ended; this one goes on', created: false });
    const { watch, journal } = parkingEffects(h, { parkAfterMs: null, entries: [entry('#queue/staging#called', { type: 'called' })] });
    const queue = new ScriptedQueue(holding);
    const { deps } = setup('enqueueOne', queue, { ...h, ctx: createContext({ ...h.ctx, attempt: 1, watch, journal }) });
    expect((await enterQueue(deps, new AbortController().signal)).go).toBe(true);
    expect(queue.calls.map((c) => c.route)).toEqual(['enter']);
    expect((queue.calls[0]?.body as EnterQueueRequest).wakeGateId).toBeUndefined();
  });

  it('continues a parked wait that a newer deployment ended: canceled, nothing entered', async () => {
    const h = harness({ plan: queuedPlan('enqueueOne') });
    h.relay.registeredAs.set(QUEUE_GATE, { state: 'failed', message: 'replaced in the deploy queue by octo/app/43', created: false });
    const { watch, journal } = parkingEffects(h, { parkAfterMs: null, entries: [entry('#queue/staging#called', { type: 'called' })] });
    const queue = new ScriptedQueue(holding);
    const { deps } = setup('enqueueOne', queue, { ...h, ctx: createContext({ ...h.ctx, attempt: 1, watch, journal }) });
    const start = await enterQueue(deps, new AbortController().signal);
    expect(start.go ? null : start.report.result).toBe('canceled');
    expect(queue.calls).toEqual([]);
  });

  it('holds a parked place until the latest gate deadline plus a lease, at most 30 days ahead', async () => {
    const queue = new ScriptedQueue(holding);
    const { h, deps } = setup('reject', queue);
    const start = await enterQueue(deps, new AbortController().signal);
    const now = h.clock.now();
    expect(parkedHoldUntil([now + 1000, now + 5000], now)).toBe(now + 5000 + LEASE_SECONDS * 1000);
    await start.place?.hold(now + 365 * 86_400_000);
    expect(queue.calls.at(-1)).toEqual({ route: 'renew', body: { repository: 'octo/app', application: 'potato-facts', runId: 'octo/app/42', holdUntil: now + MAX_HOLD_SECONDS * 1000 } });
  });
});

/**
 * A queue whose plain renewal waits until released (a slow relay, a retry after a 503). With
 * `honorsAbort` it ends at its signal's abort as fetch does; without, it answers `gone` when
 * released, as a relay would after the deployment left.
 */
function slowRenewals(honorsAbort: boolean) {
  const events: string[] = [];
  let release = (): void => undefined;
  let signal: AbortSignal | undefined;
  const queue: QueueApi = {
    enter: () => Promise.resolve(holding),
    renew: (body, given) => {
      if (body.holdUntil !== undefined) return Promise.resolve(void events.push('hold')).then(() => holding);
      signal = given;
      events.push('renew');
      return new Promise<QueueView>((resolve, reject) => {
        release = () => resolve({ position: 'gone', holder: null, replacedBy: null });
        if (honorsAbort) given?.addEventListener('abort', () => reject(given.reason), { once: true });
      }).finally(() => events.push('renew settled'));
    },
    leave: () => Promise.resolve(void events.push('leave')).then(() => ({ position: 'gone', holder: null, replacedBy: null }) as const),
  };
  return { queue, events, signal: () => signal, release: () => release() };
}

function placeOver(queue: QueueApi, target: string | null = null) {
  const h = harness({ plan: queuedPlan('enqueueOne'), settings: { target } });
  let tick = (): void => undefined;
  const place = new QueuePlace({ ctx: h.ctx, queue, targets: ['staging', 'prod'], every: (_ms, t) => ((tick = t), () => undefined) }, { repository: 'octo/app', application: 'potato-facts' });
  place.startRenewing();
  return { h, place, tick: () => tick() };
}

describe('the deploy queue place', () => {
  it('aborts a renewal in flight when the job parks, and holds only once it settled', async () => {
    const slow = slowRenewals(true);
    const { h, place, tick } = placeOver(slow.queue);
    tick();
    await within(2000, place.hold(h.clock.now() + 86_400_000));
    expect(slow.signal()?.aborted).toBe(true);
    expect(slow.events).toEqual(['renew', 'renew settled', 'hold']);
    expect(h.log.lines.filter((line) => line.startsWith('warning:'))).toEqual([]);
  });

  it('aborts a renewal in flight when the job leaves: no warning, not even when the relay answers gone', async () => {
    for (const honorsAbort of [true, false]) {
      const slow = slowRenewals(honorsAbort);
      const { h, place, tick } = placeOver(slow.queue);
      tick();
      tick(); // a tick while one renewal waits adds none
      const leaving = place.leave('prod');
      expect(slow.signal()?.aborted).toBe(true);
      slow.release();
      await within(2000, leaving);
      expect(slow.events).toEqual(['renew', 'renew settled', 'leave']);
      expect(h.log.lines.filter((line) => line.startsWith('warning:'))).toEqual([]);
    }
  });

  it('warns once when a renewal finds its place gone while the job runs', async () => {
    const slow = slowRenewals(false);
    const { h, tick } = placeOver(slow.queue);
    tick();
    slow.release();
    await within(2000, new Promise((resolve) => setTimeout(resolve, 0)));
    tick();
    slow.release();
    await within(2000, new Promise((resolve) => setTimeout(resolve, 0)));
    expect(slow.events).toEqual(['renew', 'renew settled', 'renew', 'renew settled']);
    expect(h.log.lines.filter((line) => line.startsWith('warning:'))).toEqual([
      'warning: hookgate: this deployment lost its place in the deploy queue of potato-facts (gone): another deployment may start meanwhile',
    ]);
  });

  it('names its job’s target in its renewals and its hold: the relay keeps holds per job', async () => {
    const queue = new ScriptedQueue(holding);
    const { place, tick, h } = placeOver(queue, 'prod');
    tick();
    await place.hold(h.clock.now() + 86_400_000);
    expect(queue.calls.map((call) => call.body)).toEqual([
      { repository: 'octo/app', application: 'potato-facts', runId: 'octo/app/42', target: 'prod' },
      { repository: 'octo/app', application: 'potato-facts', runId: 'octo/app/42', target: 'prod', holdUntil: h.clock.now() + 86_400_000 },
    ]);
  });
});
