/**
 * Parking (SPEC §9): the reason the engine's signal aborts with when the job stops waiting on
 * its runner. Unlike a canceled job, a parked one withdraws nothing: its gates stay pending at
 * the relay, no cancelTemplate is sent, no rollback runs, and a resumed run continues.
 */

/** The abort reason of a job that parks. */
export class Parking extends Error {
  constructor(message = 'the job parked: it waits without a runner and resumes when its gates are final') {
    super(message);
    this.name = 'Parking';
  }
}

/** Whether an abort reason is a park, not a cancel. */
export function isParking(reason: unknown): reason is Parking {
  return reason instanceof Parking;
}
