/** How parking's stored rows (relay/run/park-store.ts) become the run view's (shared/park.ts). */
import type { DispatchView, ParkView, RunRef } from '../../shared/park.ts';
import type { DispatchRow, ParkRow } from './park-store.ts';

/** A park as the run view shows it; its JSON columns hold what the relay validated when the park was stored. */
export function parkView(row: ParkRow): ParkView {
  return {
    job: row.job,
    attempt: row.attempt,
    state: row.state,
    gateIds: JSON.parse(row.gate_ids) as string[],
    targets: JSON.parse(row.targets) as string[],
    parkedAt: row.parked_at,
    parkedBy: runRefOf(storedParkedBy(row.parked_by)),
    claimedBy: row.claimed_by === null ? null : (JSON.parse(row.claimed_by) as RunRef),
  };
}

/** A resume dispatch as the run view and the approval page show it. */
export function dispatchView(row: DispatchRow): DispatchView {
  return {
    state: row.state,
    resume: { repository: row.repository, workflow: row.workflow, ref: row.ref },
    tries: row.tries,
    error: row.error,
    runId: row.resumed_run_id,
    runUrl: row.resumed_run_url,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A park's `parked_by` column: the run that parked, and the login that started its attempt when the action sent it. */
export function storedParkedBy(column: string): RunRef & { initiator?: string } {
  return JSON.parse(column) as RunRef & { initiator?: string };
}

/** Only the RunRef's fields (the column may hold the initiator beside them). */
function runRefOf({ id, attempt, url }: RunRef): RunRef {
  return { id, attempt, url };
}
