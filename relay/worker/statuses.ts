/**
 * Where the run object's domain results become HTTP: the one table of statuses, and the JSON
 * errors of the action's and the callback's routes. The approval pages take their statuses
 * from the same table.
 */
import type { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  MAX_CALLBACKS_PER_GATE_PER_MINUTE,
  MAX_GATES_PER_RUN,
  MAX_TARGETS_PER_RUN,
} from '../../shared/protocol.ts';
import type { CallbackResponse } from '../../shared/protocol.ts';
import { MAX_JOURNAL_ENTRIES, MAX_PARKED_JOBS } from '../../shared/park.ts';
import type { DecisionResult, JournalResult, ParkResult, RefusalReason, RegisterResult, ReportResult, UnparkResult } from '../run/results.ts';
import { httpError } from './http.ts';

/**
 * 409: the request contradicts what is stored (retrying cannot help); 410: nothing waits any
 * more; 422: a per-run limit (not 429: retrying cannot help either).
 */
export const REFUSAL_STATUS = {
  forbidden: 403,
  'not-found': 404,
  superseded: 409,
  conflict: 409,
  final: 410,
  'too-many-gates': 422,
  'too-many-targets': 422,
  'too-many-entries': 422,
  'too-many-parks': 422,
  'rate-limited': 429,
} as const satisfies Record<RefusalReason, ContentfulStatusCode>;

/** The same answer whoever owns the run: which repository that is stays the owner's business. */
export function notYourRun(runId: string): HTTPException {
  return httpError(REFUSAL_STATUS.forbidden, 'forbidden', `run ${runId} belongs to another repository`);
}

/** Why a registration was refused. */
export function registerRefusal(runId: string, result: Exclude<RegisterResult, { ok: true }>): HTTPException {
  switch (result.reason) {
    case 'forbidden':
      return notYourRun(runId);
    case 'too-many-gates':
      return httpError(
        REFUSAL_STATUS[result.reason],
        'too_many_gates',
        `run ${runId} already has ${result.count} gates, the most one run may register (MAX_GATES_PER_RUN = ${MAX_GATES_PER_RUN})`,
      );
    default:
      // superseded: a re-run's newer attempt owns this target; conflict: the step key is another attempt's.
      return httpError(REFUSAL_STATUS[result.reason], result.reason, result.message);
  }
}

/** Why a target report was refused; a 409 carries the record as it stands. */
export function reportRefusal(runId: string, result: Exclude<ReportResult, { ok: true }>): HTTPException {
  switch (result.reason) {
    case 'forbidden':
      return notYourRun(runId);
    case 'too-many-targets':
      return httpError(
        REFUSAL_STATUS[result.reason],
        'too_many_targets',
        `run ${runId} already has ${result.count} target records, the most one run may keep (MAX_TARGETS_PER_RUN = ${MAX_TARGETS_PER_RUN})`,
      );
    default:
      return httpError(REFUSAL_STATUS[result.reason], result.reason, result.message, { record: result.record });
  }
}

/** Why a journal entry, a park or an unpark was refused. */
export function parkingRefusal(runId: string, result: Exclude<JournalResult | ParkResult | UnparkResult, { ok: true }>): HTTPException {
  switch (result.reason) {
    case 'forbidden':
      return notYourRun(runId);
    case 'too-many-entries':
      return httpError(
        REFUSAL_STATUS[result.reason],
        'too_many_entries',
        `run ${runId} already has ${result.count} journal entries, the most one run may keep (MAX_JOURNAL_ENTRIES = ${MAX_JOURNAL_ENTRIES})`,
      );
    case 'too-many-parks':
      return httpError(
        REFUSAL_STATUS[result.reason],
        'too_many_parks',
        `run ${runId} already has ${result.count} parked jobs, the most one run may keep (MAX_PARKED_JOBS = ${MAX_PARKED_JOBS})`,
      );
    default:
      return httpError(REFUSAL_STATUS[result.reason], result.reason, result.message);
  }
}

/** A token that verifies nothing, and a gate its callback URI may not decide, answer alike. */
export function unknownGate(): HTTPException {
  return httpError(REFUSAL_STATUS['not-found'], 'not_found', 'unknown callback token');
}

/** Why a callback was refused; the gate as it stands when there is one. */
export function callbackRefusal(result: Exclude<DecisionResult, { ok: true }>): HTTPException {
  switch (result.reason) {
    case 'not-found':
      return unknownGate();
    case 'rate-limited':
      return httpError(
        REFUSAL_STATUS[result.reason],
        'rate_limited',
        `this gate took ${MAX_CALLBACKS_PER_GATE_PER_MINUTE} callbacks in the last minute, the most it accepts ` +
          `(MAX_CALLBACKS_PER_GATE_PER_MINUTE); nothing was changed, retry after ${result.retryAfterSeconds} s`,
        {},
        { 'retry-after': String(result.retryAfterSeconds) },
      );
    case 'conflict':
      return httpError(REFUSAL_STATUS[result.reason], 'conflict', `the gate was already decided: ${result.gate.state}`, {
        gate: callbackAnswer(result.gate),
      });
    case 'final':
      return httpError(REFUSAL_STATUS[result.reason], 'gone', `${goneText(result.gate.state)}; nothing waits for it`, {
        gate: callbackAnswer(result.gate),
      });
  }
}

/** Why a gate is over: `failed` is final only when the relay failed it itself (relay/run/callbacks.ts). */
function goneText(state: CallbackResponse['state']): string {
  return state === 'failed' ? 'the relay failed the gate: nothing was heard within its heartbeatTimeout' : `the gate is ${state}`;
}

/** What a callback's sender is told about the gate. */
export function callbackAnswer(gate: { gateId: string; state: CallbackResponse['state']; message: string | null }): CallbackResponse {
  return { gateId: gate.gateId, state: gate.state, message: gate.message };
}
