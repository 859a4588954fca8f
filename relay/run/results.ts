/**
 * What the run object's RPC methods answer: domain results, plain objects that cross the RPC
 * boundary as they are. `ok: false` names why in `reason`; the edge alone picks HTTP statuses
 * (relay/worker/statuses.ts).
 */
import type { z } from 'zod';
import type {
  CancelRunRequest,
  GateView,
  RegisterGateResponse,
  ReportTargetRequest,
  RunInfo,
  TargetRecord,
  TargetStatus,
} from '../../shared/protocol.ts';
import type { ApprovalPolicy } from '../../shared/protocol.ts';
import type { DispatchView, ParkResponse, ResumeResponse, RunView } from '../../shared/park.ts';

/** An action route on a run the caller's repository does not own: nothing was read or changed. */
export type Forbidden = { ok: false; reason: 'forbidden' };

export type ReportTarget = z.output<typeof ReportTargetRequest>;
export type CancelRun = CancelRunRequest;

/** An older attempt than the run has seen (`superseded`), or a change the record forbids (`conflict`). */
export type Refusal = { ok: false; reason: 'superseded' | 'conflict'; message: string };

/** A new gate past MAX_GATES_PER_RUN. */
type TooManyGates = { ok: false; reason: 'too-many-gates'; count: number };

/** A new target record past MAX_TARGETS_PER_RUN. */
type TooManyTargets = { ok: false; reason: 'too-many-targets'; count: number };

/** A gate past its budget of POSTs a minute: nothing was read or changed. */
type RateLimited = { ok: false; reason: 'rate-limited'; retryAfterSeconds: number };

/** No such gate, or none this credential may decide. */
export type NotFound = { ok: false; reason: 'not-found' };

export type RegisterResult = { ok: true; gate: RegisterGateResponse } | Refusal | TooManyGates | Forbidden;

export type WaitResult = { ok: true; gate: GateView } | NotFound | Forbidden;

/** What a gate is and how it stands, without its reports (RunObject.gateInfo). */
export type GateInfo = Pick<GateView, 'kind' | 'name' | 'phase' | 'attempt' | 'state'>;

export type GateInfoResult = { ok: true; gate: GateInfo } | NotFound | Forbidden;

/**
 * `conflict`: the gate was decided otherwise (or a report came after the decision);
 * `final`: it timed out, was canceled or superseded, so nothing waits for a decision.
 */
export type DecisionResult =
  | { ok: true; gate: GateView }
  | NotFound
  | { ok: false; reason: 'conflict' | 'final'; gate: GateView }
  | RateLimited;

export type CancelResult = { ok: true; canceled: string[] } | Forbidden;

export type ReportResult = { ok: true; record: TargetRecord } | (Refusal & { record: TargetRecord }) | TooManyTargets | Forbidden;

export type TargetResult = { ok: true; record: TargetRecord } | Forbidden;

/** Every reason a run object refuses, for the edge's one table of HTTP statuses. */
export type RefusalReason = Exclude<
  | RegisterResult
  | WaitResult
  | DecisionResult
  | CancelResult
  | ReportResult
  | TargetResult
  | JournalResult
  | ParkResult
  | ResumeResult
  | UnparkResult
  | RunViewResult,
  { ok: true }
>['reason'];

/** A gate's id and links, made by the edge (which holds CALLBACK_SECRET) before it registers the gate. */
export type NewGate = { gateId: string; callbackUri: string; approvalUrl: string | null };

/** A GitHub user the relay's sign-in verified: `id` is GitHub's numeric user id, as text. */
export type Person = { id: string; login: string };

/**
 * What a person decides on the approval page, as typed there; `person` when sign-in is configured
 * and the edge found them eligible (relay/auth/eligibility.ts): then `approver` is ignored.
 */
export type ApprovalDecision = { approved: boolean; comment: string; approver: string; person?: Person };

/**
 * One signed-in person's recorded decision on an approval gate (relay/run/approvals.ts). `user_id`
 * is their GitHub user id, what a person is matched by: a login can be renamed, and taken by another.
 */
export type ApprovalVote = { user_id: string; login: string; approved: boolean; at: number };

/**
 * An approval decision's result: as DecisionResult, or `duplicate` (this person already decided
 * this gate: 409) or `too-many-approvals` (the gate's rows are full: 422). Not in RefusalReason:
 * only the approval pages answer these, with their own statuses.
 */
export type ApprovalResult =
  | DecisionResult
  | { ok: false; reason: 'duplicate'; vote: ApprovalVote; gate: GateView }
  | { ok: false; reason: 'too-many-approvals'; count: number };

/**
 * The gates an approval page lists: the window of its target's gates of the same attempt around
 * the page's gate (relay/run/page-limits.ts), in creation order, and how many it leaves out before and after.
 */
export type PageGates = { gates: GateView[]; hiddenBefore: number; hiddenAfter: number };

/** Everything the approval page shows: the gate, the run, and a window of its target's gates of the same attempt. */
export type ApprovalPage = {
  gate: GateView;
  requiresRoles: string[];
  run: RunInfo | null;
  resume?: ResumeNote | null;
  /** The gate's policy as registered; null for a gate registered without one (anyone with write access, one approval). */
  policy?: ApprovalPolicy | null;
  /** The signed-in decisions recorded so far, oldest first. */
  votes?: ApprovalVote[];
  /** The run's targets with their states, in the graph's order; null when the action sent no graph. */
  graph?: PageGraphTarget[] | null;
} & PageGates;

/** A target of the run's graph as the approval page draws it: what it waits for and how it stands. */
export type PageGraphTarget = { name: string; dependsOn: string[]; state: TargetStatus | 'parked' };

export function superseded(attempt: number, highest: number, target: string): Refusal {
  return {
    ok: false,
    reason: 'superseded',
    message: `attempt ${attempt} is out of date: attempt ${highest} of target ${target} superseded it`,
  };
}

/** A new journal entry past MAX_JOURNAL_ENTRIES. */
type TooManyEntries = { ok: false; reason: 'too-many-entries'; count: number };

/** A new park past MAX_PARKED_JOBS. */
type TooManyParks = { ok: false; reason: 'too-many-parks'; count: number };

export type JournalResult = { ok: true; recorded: boolean } | Refusal | TooManyEntries | Forbidden;

export type ParkResult = { ok: true; park: ParkResponse } | Refusal | TooManyParks | Forbidden;

export type ResumeResult = { ok: true; resume: ResumeResponse } | Forbidden;

/** `state`: the job's park as it is now; null when the job has none. */
export type UnparkResult = { ok: true; job: string; state: 'closed' | null } | Refusal | Forbidden;

export type RunViewResult = { ok: true; view: RunView } | Forbidden;

/** What the approval page says about parking: the run's latest resume, whether a job is parked, and the deployment id for a resume by hand. */
export type ResumeNote = { dispatch: DispatchView | null; parked: boolean; deploymentId: string };
