/**
 * What a callback does to a webhook gate (SPEC §3, §11), decided from its stored row: a progress
 * report is appended while the gate is pending (a bare `{"progress": true}` only says the system is
 * alive: heard, never stored as a report); the first decision wins with its outputs, a repeat of it
 * is harmless (a retrying sender; its outputs are not read), a different one is refused; a gone gate is final,
 * and so is one the relay failed itself (heartbeatTimeout): it answers as a timed-out gate does (410).
 */
import type { CallbackBody, GateState, Outputs } from '../../shared/protocol.ts';
import { GONE_STATES } from '../../shared/protocol.ts';
import type { Heartbeats } from './heartbeats.ts';
import type { DecisionResult } from './results.ts';
import type { GateRow } from './rows.ts';
import type { RunStore } from './store.ts';

/** `answer`: reply with `result` (`wake`: a report was stored); `decide`: store this decision. */
export type CallbackStep =
  | { kind: 'answer'; result: DecisionResult; wake: boolean }
  | { kind: 'decide'; state: GateState; message: string | null; outputs: Outputs | null };

/**
 * The step for `body` on the gate `row` (its deadline and heartbeat already checked); stores a
 * progress report and the heartbeat itself.
 */
export function callbackStep(store: RunStore, heartbeats: Heartbeats, row: GateRow, body: CallbackBody, now: number): CallbackStep {
  // A gate the relay failed itself (heartbeatTimeout) is over as a timed-out one is: no sender's word was stored.
  if (GONE_STATES.includes(row.state) || row.relay_ended === 1) {
    return { kind: 'answer', result: { ok: false, reason: 'final', gate: store.view(row) }, wake: false };
  }
  // Only a called gate has a clock to move (most gates have none: no write then).
  const heard = row.state === 'pending' && row.called_at !== null && heartbeats.heard(row.id, now);
  const gate = (): ReturnType<RunStore['view']> => store.view(heard ? (store.gate(row.id) ?? row) : row);
  const message = body.mdMessage ?? null;
  if ('progress' in body) {
    if (row.state !== 'pending') return { kind: 'answer', result: { ok: false, reason: 'conflict', gate: gate() }, wake: false };
    // A bare heartbeat wakes no poll: nothing the action shows changed.
    if (message === null) return { kind: 'answer', result: { ok: true, gate: gate() }, wake: false };
    store.addProgress(row.id, message);
    return { kind: 'answer', result: { ok: true, gate: gate() }, wake: true };
  }
  const state: GateState = body.success ? 'succeeded' : 'failed';
  if (row.state === 'pending') return { kind: 'decide', state, message, outputs: body.outputs ?? null };
  const result: DecisionResult = row.state === state ? { ok: true, gate: gate() } : { ok: false, reason: 'conflict', gate: gate() };
  return { kind: 'answer', result, wake: false };
}
