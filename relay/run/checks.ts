/**
 * The run object's checks before a write: whether a registration or a target report may be
 * stored, read from the store in the caller's synchronous stretch (nothing awaits between a
 * check and its write, so concurrent requests find each other's rows).
 */
import type { RegisterGate } from '../../shared/protocol.ts';
import { FINAL_TARGET_STATUSES, MAX_GATES_PER_RUN, MAX_TARGETS_PER_RUN } from '../../shared/protocol.ts';
import type * as R from './results.ts';
import { superseded } from './results.ts';
import type { GateRow } from './rows.ts';
import { targetRecord } from './rows.ts';
import type { RunStore } from './store.ts';

/**
 * Why a registration is refused (an attempt a re-run superseded, a step key of another attempt,
 * a new gate past MAX_GATES_PER_RUN), else the gate this step key already has, if any.
 */
export function checkRegister(store: RunStore, request: RegisterGate): { refusal: R.RegisterResult } | { existing: GateRow | undefined } {
  const highest = store.highestAttempt(request.target);
  if (request.attempt < highest) return { refusal: superseded(request.attempt, highest, request.target) };
  const existing = store.gateByStepKey(request.stepKey);
  if (existing && existing.attempt !== request.attempt) {
    const message = `step key ${request.stepKey} belongs to attempt ${existing.attempt}; each attempt needs its own step keys`;
    return { refusal: { ok: false, reason: 'conflict', message } };
  }
  if (existing) return { existing };
  const count = store.gateCount();
  return count >= MAX_GATES_PER_RUN ? { refusal: { ok: false, reason: 'too-many-gates', count } } : { existing: undefined };
}

/**
 * Why a target report is not stored: an older attempt than the run has seen, a change of a
 * final status within its attempt (a repeat of it answers ok), a new record past MAX_TARGETS_PER_RUN;
 * null when it is to be stored.
 */
export function checkReport(store: RunStore, request: R.ReportTarget): R.ReportResult | null {
  const current = store.target(request.target);
  const record = targetRecord(request.runId, request.target, current);
  const highest = store.highestAttempt(request.target);
  if (request.attempt < highest) return { ...superseded(request.attempt, highest, request.target), record };
  if (current?.attempt === request.attempt && FINAL_TARGET_STATUSES.includes(current.status)) {
    if (current.status === request.status) return { ok: true, record };
    const message = `target ${request.target} already ended ${current.status} in attempt ${current.attempt}; a final status does not change`;
    return { ok: false, reason: 'conflict', message, record };
  }
  if (current) return null;
  const count = store.targetCount();
  return count >= MAX_TARGETS_PER_RUN ? { ok: false, reason: 'too-many-targets', count } : null;
}
