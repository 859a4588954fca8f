/**
 * What a callback does to a webhook gate (SPEC §3), decided from its stored row: a progress
 * report is appended while the gate is pending; the first decision wins, a repeat of it is
 * harmless (a retrying sender), a different one is refused; a gone gate is final.
 */
import type { CallbackBody, GateState } from '../../shared/protocol.ts';
import { GONE_STATES } from '../../shared/protocol.ts';
import type { DecisionResult } from './results.ts';
import type { GateRow } from './rows.ts';
import type { RunStore } from './store.ts';

/** `answer`: reply with `result` (`wake`: a report was stored); `decide`: store this decision. */
export type CallbackStep =
  | { kind: 'answer'; result: DecisionResult; wake: boolean }
  | { kind: 'decide'; state: GateState; message: string | null };

/** The step for `body` on the gate `row` (its deadline already checked); stores a progress report itself. */
export function callbackStep(store: RunStore, row: GateRow, body: CallbackBody): CallbackStep {
  const gate = (): ReturnType<RunStore['view']> => store.view(row);
  if (GONE_STATES.includes(row.state)) return { kind: 'answer', result: { ok: false, reason: 'final', gate: gate() }, wake: false };
  const message = body.mdMessage ?? null;
  if ('progress' in body) {
    if (row.state !== 'pending') return { kind: 'answer', result: { ok: false, reason: 'conflict', gate: gate() }, wake: false };
    store.addProgress(row.id, message ?? '');
    return { kind: 'answer', result: { ok: true, gate: gate() }, wake: true };
  }
  const state: GateState = body.success ? 'succeeded' : 'failed';
  if (row.state === 'pending') return { kind: 'decide', state, message };
  const result: DecisionResult = row.state === state ? { ok: true, gate: gate() } : { ok: false, reason: 'conflict', gate: gate() };
  return { kind: 'answer', result, wake: false };
}
