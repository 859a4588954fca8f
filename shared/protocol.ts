/** The action ↔ relay protocol and the callback contract (SPEC §3, §6): both sides parse with these schemas at their borders. */
import { z } from 'zod';
import { Outputs } from './outputs.ts';
export { MAX_OUTPUT_KEYS, MAX_OUTPUTS_BYTES, OutputKey, OutputValue, Outputs } from './outputs.ts';

/** Largest request body the relay reads, in bytes (SPEC §3: 413 above it). */
export const MAX_BODY_BYTES = 64 * 1024;
/** Longest Markdown message a callback may carry, in characters. */
export const MAX_MESSAGE_CHARS = 16 * 1024;
/**
 * Most gates one run may register (422 `too_many_gates` past it). A run's gates live in
 * one Durable Object and its approval pages list them; retrying cannot help, so not 429.
 */
export const MAX_GATES_PER_RUN = 1000;
/**
 * Most POSTs one gate's callback URI and approval page accept together in any 60 s
 * (429 `rate_limited` with Retry-After past it): a sender in a retry loop cannot keep
 * the run's Durable Object busy.
 */
export const MAX_CALLBACKS_PER_GATE_PER_MINUTE = 60;
/**
 * Most target records one run may keep (422 `too_many_targets` past it): a run has one record
 * per environment, so this is far above any real deployment file and bounds the run's storage.
 */
export const MAX_TARGETS_PER_RUN = 1000;
/** Longest comment a person may leave on the approval page, in characters. */
export const MAX_COMMENT_CHARS = 2000;
/** Longest approver name the approval page accepts, in characters. */
export const MAX_APPROVER_CHARS = 100;
/**
 * Longest reason a cancel may carry. Like every `*_CHARS` limit here it counts code points, as
 * zod's `max` does (🚀 is one): a sender cutting text to fit cuts by code points, never
 * inside a surrogate pair.
 */
export const MAX_CANCEL_REASON_CHARS = 500;
/** Longest message a target record may carry, in characters. */
export const MAX_TARGET_MESSAGE_CHARS = 2000;
/** Longest a single long-poll is held open by the relay, in seconds. */
export const MAX_WAIT_SECONDS = 30;
/** Default gate timeout (SPEC §2: 24 hours unless set shorter). */
export const DEFAULT_GATE_TIMEOUT_SECONDS = 24 * 60 * 60;
/**
 * Longest gate timeout the relay accepts: 30 days, as long as GitHub's own protection rules wait.
 * A wait longer than a job can live (6 hours on GitHub's runners) needs `park-after` (SPEC §9).
 */
export const MAX_GATE_TIMEOUT_SECONDS = 30 * 24 * 60 * 60;

/** Most targets the run's graph (RunInfo.graph) may name: beyond it the approval page lists targets without the picture. */
export const MAX_GRAPH_TARGETS = 100;

/** Deployment (run) id: `<owner>/<repo>/<run id>` by default; any printable id up to 200 chars. */
export const RunId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** A step's stable key inside a run, e.g. `staging/beforeDeployment/0/Update-Database-Schema`. */
export const StepKey = z.string().min(1).max(1000);

export const GateId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'is not a gate id');

export const Phase = z.enum(['beforeDeployment', 'strategy', 'afterDeployment']);
export type Phase = z.infer<typeof Phase>;

/** A gate's life: pending until exactly one terminal state is stored. */
export const GateState = z.enum(['pending', 'succeeded', 'failed', 'timed-out', 'canceled', 'superseded']);
export type GateState = z.infer<typeof GateState>;

/** `webhook`: decided by a callback; `approval`: decided by a person on the relay's approval page. */
export const GateKind = z.enum(['webhook', 'approval']);
export type GateKind = z.infer<typeof GateKind>;

/** GitHub's run attempt (`GITHUB_RUN_ATTEMPT`): a re-run supersedes earlier attempts' gates of its target. */
export const Attempt = z.number().int().min(1).max(10_000);

export const TargetName = z.string().min(1).max(200);

/** A target of the run and what it waits for: the approval page draws the deployment from these. */
export const GraphTarget = z.strictObject({
  name: TargetName,
  dependsOn: z.array(TargetName).max(50).default([]),
});
export type GraphTarget = z.input<typeof GraphTarget>;

/** What the approval page shows about the run. Sent with every registration; the latest wins. */
export const RunInfo = z.strictObject({
  application: z.string().max(200),
  repository: z.string().max(200),
  sha: z.string().max(100),
  ref: z.string().max(300),
  actor: z.string().max(100),
  /** Link to the workflow run; http(s) only, so the page never renders another scheme. */
  runUrl: z.union([z.url({ protocol: /^https?$/ }), z.literal('')]),
  /** The deployment's targets in run order with their dependsOn (hookgate ≥ issue 13); absent from older actions. */
  graph: z.array(GraphTarget).max(MAX_GRAPH_TARGETS).optional(),
});
export type RunInfo = z.infer<typeof RunInfo>;

/** Most approvers (users and teams) an approval gate may name. */
export const MAX_APPROVERS = 50;
/** Most approvals an approval gate may require (`pause.minimumApprovals`). */
export const MAX_MINIMUM_APPROVALS = 10;

/**
 * Who may decide an approval gate when the relay has GitHub sign-in (SPEC §10). `approvers`:
 * GitHub logins (`mona`) and teams (`@acme/release-team`), the file's `requiresRoles` resolved
 * through its `roles:` map (a role not in the map is the team of that slug in the repository
 * owner's organization); empty: anyone with write access to the repository.
 */
export const ApprovalPolicy = z.strictObject({
  approvers: z
    .array(z.string().regex(/^(?:@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}|[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))$/, 'must be a GitHub login or @org/team'))
    .max(MAX_APPROVERS)
    .default([]),
  /** That many distinct eligible people must approve; one eligible rejection rejects. */
  minimumApprovals: z.number().int().min(1).max(MAX_MINIMUM_APPROVALS).default(1),
  /** The person who started the run may not approve (GitHub environments' "prevent self-review"). */
  preventSelfReview: z.boolean().default(false),
  /** The login that started the run (GITHUB_TRIGGERING_ACTOR, else GITHUB_ACTOR); '' when unknown. */
  initiator: z.string().max(100).default(''),
});
export type ApprovalPolicy = z.output<typeof ApprovalPolicy>;



export const RegisterGateRequest = z.strictObject({
  runId: RunId,
  stepKey: StepKey,
  target: TargetName,
  phase: Phase,
  name: z.string().min(1).max(200),
  timeoutSeconds: z.number().int().min(1).max(MAX_GATE_TIMEOUT_SECONDS),
  kind: GateKind.default('webhook'),
  attempt: Attempt.default(1),
  /** Armory's `requiresRoles`: the role names the approval page shows (`approval.approvers` has who they are). */
  requiresRoles: z.array(z.string().min(1).max(100)).max(20).default([]),
  /** An approval gate's policy: who may decide, how many, self-review (SPEC §10); enforced when the relay has sign-in. */
  approval: ApprovalPolicy.optional(),
  /**
   * A webhook gate's `heartbeatTimeout` (SPEC §11): once the action says the webhook was called
   * (POST /v1/gates/called), silence longer than this fails the gate, enforced by the relay's alarm.
   */
  heartbeatSeconds: z.number().int().min(1).max(MAX_GATE_TIMEOUT_SECONDS).optional(),
  run: RunInfo.optional(),
});
export type RegisterGateRequest = z.input<typeof RegisterGateRequest>;
export type RegisterGate = z.output<typeof RegisterGateRequest>;

/**
 * An interim report on a gate. `seq` counts the gate's reports from 1: the relay keeps only the
 * latest ones, so a reader tells new reports from seen ones by `seq`, never by position.
 */
export const ProgressReport = z.object({
  seq: z.number().int().min(1),
  at: z.number(),
  message: z.string(),
});
export type ProgressReport = z.infer<typeof ProgressReport>;

/** What the relay tells the action about a gate. Times are epoch milliseconds. */
export const GateView = z.object({
  gateId: GateId,
  runId: RunId,
  stepKey: StepKey,
  target: z.string(),
  phase: Phase,
  name: z.string(),
  kind: GateKind,
  attempt: Attempt,
  state: GateState,
  message: z.string().nullable(),
  /** Who decided an approval gate (the name typed on the page, or `anonymous`); null otherwise. */
  decidedBy: z.string().nullable(),
  createdAt: z.number(),
  deadline: z.number(),
  decidedAt: z.number().nullable(),
  progress: z.array(ProgressReport),
  /** The decision's outputs (SPEC §11); null when it carried none or the gate is pending. */
  // The three below default to null so that an action parses the answers of a relay older than issue 13.
  outputs: Outputs.nullable().default(null),
  /** The gate's heartbeatTimeout in seconds; null without one. */
  heartbeatSeconds: z.number().nullable().default(null),
  /** When the external system was last heard (the call, a progress post or a bare heartbeat); null before the call is reported. */
  lastHeardAt: z.number().nullable().default(null),
});
export type GateView = z.infer<typeof GateView>;

/**
 * POST /v1/gates/called: the action called the gate's webhook (2xx). A gate with heartbeatSeconds
 * starts its heartbeat clock now; a repeat changes nothing. Answers the GateView.
 */
export const GateCalledRequest = z.strictObject({
  runId: RunId,
  gateId: GateId,
});
export type GateCalledRequest = z.infer<typeof GateCalledRequest>;

export const RegisterGateResponse = GateView.extend({
  callbackUri: z.url(),
  /** The approval page of an `approval` gate; null for webhook gates. */
  approvalUrl: z.url().nullable(),
  /** false when the same run + step key was registered before (idempotent retry). */
  created: z.boolean(),
});
export type RegisterGateResponse = z.infer<typeof RegisterGateResponse>;

/**
 * Cancels the run's pending gates: only `gateIds` when given (a sibling failed
 * first); else those of `target` when given (one job of a run), else all. Without
 * `gateIds`, the targets it covers that are still `running` are recorded `canceled`.
 */
export const CancelRunRequest = z.strictObject({
  runId: RunId,
  reason: z.string().max(MAX_CANCEL_REASON_CHARS).default('the run was canceled'),
  gateIds: z.array(GateId).max(1000).optional(),
  target: TargetName.optional(),
});
export type CancelRunRequest = z.infer<typeof CancelRunRequest>;

export const CancelRunResponse = z.object({
  runId: RunId,
  canceled: z.array(GateId),
});
export type CancelRunResponse = z.infer<typeof CancelRunResponse>;

const MdMessage = z.string().max(MAX_MESSAGE_CHARS, `must be at most ${MAX_MESSAGE_CHARS} characters`);

/**
 * The callback body an external system posts (SPEC §3, §11). Either a decision (`success`, with
 * optional `outputs`) or an interim report (`progress: true`; without mdMessage it is a bare
 * heartbeat, stored as one and never shown), never both.
 * Unknown fields are ignored: Armory clients send extras.
 */
export const CallbackBody = z.union([
  z.object({
    success: z.boolean(),
    mdMessage: MdMessage.optional(),
    outputs: Outputs.optional(),
    // A body with both is ambiguous: refused, not read as one of them.
    progress: z.never({ error: 'send either success (a decision) or progress: true (a report), not both' }).optional(),
  }),
  z.object({
    progress: z.literal(true),
    mdMessage: MdMessage.optional(),
    success: z.never({ error: 'send either success (a decision) or progress: true (a report), not both' }).optional(),
    outputs: z.never({ error: 'outputs come with the decision (success), not with a progress report' }).optional(),
  }),
]);
export type CallbackBody = z.infer<typeof CallbackBody>;

export const CallbackResponse = z.object({
  gateId: GateId,
  state: GateState,
  message: z.string().nullable(),
});
export type CallbackResponse = z.infer<typeof CallbackResponse>;

/** Every error the relay returns. */
export const ErrorBody = z.object({
  error: z.string(),
  message: z.string(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Terminal states a callback can no longer change (410 Gone). */
export const GONE_STATES: readonly GateState[] = ['timed-out', 'canceled', 'superseded'];

/**
 * A target's outcome as the run records it, for one job per environment (SPEC §5).
 * `unknown`: no job has reported the target yet.
 */
export const TargetStatus = z.enum(['unknown', 'running', 'succeeded', 'rolled-back', 'failed', 'canceled']);
export type TargetStatus = z.infer<typeof TargetStatus>;
/** Outcomes after which a target's record no longer changes within its attempt. */
export const FINAL_TARGET_STATUSES: readonly TargetStatus[] = ['succeeded', 'rolled-back', 'failed', 'canceled'];

/** POST /v1/runs/targets: a job reports its target's progress. An older attempt than the recorded one gets 409. */
export const ReportTargetRequest = z.strictObject({
  runId: RunId,
  target: TargetName,
  attempt: Attempt,
  status: TargetStatus.exclude(['unknown']),
  message: z.string().max(MAX_TARGET_MESSAGE_CHARS).default(''),
});
export type ReportTargetRequest = z.input<typeof ReportTargetRequest>;

/** A target's record; GET /v1/runs/targets?run=&target=&wait= long-polls until it is final. */
export const TargetRecord = z.object({
  runId: RunId,
  target: TargetName,
  /** 0 while `unknown`. */
  attempt: z.number().int().min(0),
  status: TargetStatus,
  message: z.string(),
  updatedAt: z.number().nullable(),
});
export type TargetRecord = z.infer<typeof TargetRecord>;
