/** What the run object's RPC methods answer: plain objects, so they cross the RPC boundary as they are. */
import type { z } from 'zod';
import type { GateView, RegisterGateResponse, ReportTargetRequest, RunInfo, TargetRecord } from '../../shared/protocol.ts';

/** An action route on a run the caller's repository does not own: nothing was read or changed. */
export type Forbidden = { status: 403 };

export type ReportTarget = z.output<typeof ReportTargetRequest>;

/** An expected refusal: an older attempt than the run has seen, or a change the record forbids. */
export type Refusal = { status: 409; error: 'superseded' | 'conflict'; message: string };

/** A new gate past MAX_GATES_PER_RUN. */
export type TooManyGates = { status: 422; count: number };

/** A gate past MAX_CALLBACKS_PER_GATE_PER_MINUTE: nothing was read or changed. */
export type RateLimited = { status: 429; retryAfterSeconds: number };

export type RegisterResult = { status: 200 | 201; gate: RegisterGateResponse } | Refusal | TooManyGates | Forbidden;

export type WaitResult = { status: 200; gate: GateView } | { status: 404 } | Forbidden;

export type DecisionResult =
  | { status: 200; gate: GateView }
  | { status: 404 }
  | { status: 409; gate: GateView }
  | { status: 410; gate: GateView }
  | RateLimited;

export type CancelResult = { status: 200; canceled: string[] } | Forbidden;

export type ReportResult = { status: 200; record: TargetRecord } | (Refusal & { record: TargetRecord }) | Forbidden;

export type TargetResult = { status: 200; record: TargetRecord } | Forbidden;

/** What a person decides on the approval page, as typed there. */
export type ApprovalDecision = { approved: boolean; comment: string; approver: string };

/** Everything the approval page shows: the gate, the run, and its target's gates of the same attempt. */
export type ApprovalPage = { gate: GateView; requiresRoles: string[]; run: RunInfo | null; gates: GateView[] };

export function superseded(attempt: number, highest: number, target: string): Refusal {
  return {
    status: 409,
    error: 'superseded',
    message: `attempt ${attempt} is out of date: attempt ${highest} of target ${target} superseded it`,
  };
}
