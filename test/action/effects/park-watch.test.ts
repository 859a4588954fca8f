import { describe, expect, it } from 'vitest';
import { ParkWatch } from '../../../action/effects/park-watch.ts';
import type { PendingGate } from '../../../action/effects/park-watch.ts';
import { isParking } from '../../../action/engine/parking.ts';
import { ManualClock, deferred } from '../fakes.ts';

const MINUTE = 60_000;

function gate(gateId: string, fields: Partial<PendingGate> = {}): PendingGate {
  return { gateId, target: 'prod', name: 'Tests', kind: 'webhook', approvalUrl: null, deadline: 0, ...fields };
}

/** A step that is busy, then waits on `on` until `done` resolves. */
function waitingStep(watch: ParkWatch, on: Parameters<ParkWatch['waitingOn']>[0], done: Promise<void>): Promise<void> {
  return watch.busyWhile(() => watch.waitingOn(on, () => done));
}

describe('ParkWatch', () => {
  it('parks once the job has only waited for park-after, with a Parking reason and what it waited for', async () => {
    const clock = new ManualClock();
    const watch = new ParkWatch(10 * MINUTE, clock);
    const hold = deferred();
    void waitingStep(watch, { gate: gate('g1', { approvalUrl: 'https://relay/approve/g1' }) }, hold.promise);
    void waitingStep(watch, { target: 'staging' }, hold.promise);
    await clock.advance(10 * MINUTE - 1);
    expect(watch.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(watch.signal.aborted).toBe(true);
    expect(isParking(watch.signal.reason)).toBe(true);
    expect(watch.parked).toEqual({ gates: [gate('g1', { approvalUrl: 'https://relay/approve/g1' })], targets: ['staging'] });
  });

  it('does not park while a command, a webhook call or a pause runs beside the wait, and counts again from its end', async () => {
    const clock = new ManualClock();
    const watch = new ParkWatch(10 * MINUTE, clock);
    const hold = deferred();
    void waitingStep(watch, { gate: gate('g1') }, hold.promise);
    const command = deferred();
    const busy = watch.busyWhile(() => command.promise);
    await clock.advance(60 * MINUTE);
    expect(watch.signal.aborted).toBe(false);
    command.resolve();
    await busy;
    await clock.advance(9 * MINUTE);
    expect(watch.signal.aborted).toBe(false);
    await clock.advance(MINUTE);
    expect(watch.signal.aborted).toBe(true);
  });

  it('needs the waiting to be continuous: a gate decided meanwhile restarts the count', async () => {
    const clock = new ManualClock();
    const watch = new ParkWatch(10 * MINUTE, clock);
    const first = deferred();
    const step = watch.busyWhile(async () => {
      await watch.waitingOn({ gate: gate('g1') }, () => first.promise);
      // The next gate of the step, after a moment of work.
      await watch.waitingOn({ gate: gate('g2') }, () => new Promise(() => undefined));
    });
    void step;
    await clock.advance(8 * MINUTE);
    first.resolve();
    await clock.advance(0);
    await clock.advance(8 * MINUTE);
    expect(watch.signal.aborted).toBe(false);
    await clock.advance(2 * MINUTE);
    expect(watch.signal.aborted).toBe(true);
    expect(watch.parked?.gates.map((g) => g.gateId)).toEqual(['g2']);
  });

  it('never parks when nothing is waited for (only busy, or idle between steps)', async () => {
    const clock = new ManualClock();
    const watch = new ParkWatch(0, clock);
    const command = deferred();
    void watch.busyWhile(() => command.promise);
    await clock.advance(60 * MINUTE);
    command.resolve();
    await clock.advance(60 * MINUTE);
    expect(watch.signal.aborted).toBe(false);
  });

  it('parks at once with park-after 0s, once only waiting', async () => {
    const clock = new ManualClock();
    const watch = new ParkWatch(0, clock);
    void waitingStep(watch, { target: 'staging' }, new Promise(() => undefined));
    await clock.advance(0);
    expect(watch.signal.aborted).toBe(true);
  });

  it('never parks without park-after, nor once disabled (a journal write failed)', async () => {
    const clock = new ManualClock();
    const never = new ParkWatch(null, clock);
    expect(never.enabled).toBe(false);
    void waitingStep(never, { gate: gate('g1') }, new Promise(() => undefined));
    const disabled = new ParkWatch(MINUTE, clock);
    void waitingStep(disabled, { gate: gate('g1') }, new Promise(() => undefined));
    await clock.advance(MINUTE / 2);
    disabled.disable();
    expect(disabled.enabled).toBe(false);
    await clock.advance(60 * MINUTE);
    expect(never.signal.aborted).toBe(false);
    expect(disabled.signal.aborted).toBe(false);
  });

  it('lists a gate waited for twice (an approval and a webhook of its list) once', async () => {
    const clock = new ManualClock();
    const watch = new ParkWatch(0, clock);
    const approval = gate('a1', { kind: 'approval', name: 'manual approval' });
    void waitingStep(watch, { gate: approval }, new Promise(() => undefined));
    void waitingStep(watch, { gate: approval }, new Promise(() => undefined));
    await clock.advance(0);
    expect(watch.parked?.gates).toEqual([approval]);
  });
});
