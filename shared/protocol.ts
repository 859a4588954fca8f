/**
 * The action ↔ relay protocol and the callback contract (SPEC §3, §6).
 * Both sides parse with these schemas at their borders; nothing else is shared.
 */
import { z } from 'zod';

/** Largest request body the relay reads, in bytes (SPEC §3: 413 above it). */
export const MAX_BODY_BYTES = 64 * 1024;
/** Longest Markdown message a callback may carry, in characters. */
export const MAX_MESSAGE_CHARS = 16 * 1024;
/** Longest a single long-poll is held open by the relay, in seconds. */
export const MAX_WAIT_SECONDS = 30;
/** Default gate timeout (SPEC §2: 24 hours unless set shorter). */
export const DEFAULT_GATE_TIMEOUT_SECONDS = 24 * 60 * 60;
/** Longest gate timeout the relay accepts: 7 days. */
export const MAX_GATE_TIMEOUT_SECONDS = 7 * 24 * 60 * 60;

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
export const GateState = z.enum(['pending', 'succeeded', 'failed', 'timed-out', 'canceled']);
export type GateState = z.infer<typeof GateState>;

export const RegisterGateRequest = z.strictObject({
  runId: RunId,
  stepKey: StepKey,
  target: z.string().min(1).max(200),
  phase: Phase,
  name: z.string().min(1).max(200),
  timeoutSeconds: z.number().int().min(1).max(MAX_GATE_TIMEOUT_SECONDS),
});
export type RegisterGateRequest = z.infer<typeof RegisterGateRequest>;

export const ProgressReport = z.object({
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
  state: GateState,
  message: z.string().nullable(),
  createdAt: z.number(),
  deadline: z.number(),
  decidedAt: z.number().nullable(),
  progress: z.array(ProgressReport),
});
export type GateView = z.infer<typeof GateView>;

export const RegisterGateResponse = GateView.extend({
  callbackUri: z.url(),
  /** false when the same run + step key was registered before (idempotent retry). */
  created: z.boolean(),
});
export type RegisterGateResponse = z.infer<typeof RegisterGateResponse>;

/** Cancels the run's pending gates, or only `gateIds` when given (a sibling failed first). */
export const CancelRunRequest = z.strictObject({
  runId: RunId,
  reason: z.string().max(500).default('the run was canceled'),
  gateIds: z.array(GateId).max(1000).optional(),
});
export type CancelRunRequest = z.infer<typeof CancelRunRequest>;

export const CancelRunResponse = z.object({
  runId: RunId,
  canceled: z.array(GateId),
});
export type CancelRunResponse = z.infer<typeof CancelRunResponse>;

/**
 * The callback body an external system posts (SPEC §3). Either a decision
 * (`success`) or an interim report (`progress: true`), never both.
 * Unknown fields are ignored: Armory clients send extras.
 */
export const CallbackBody = z.union([
  z.object({
    success: z.boolean(),
    mdMessage: z.string().max(MAX_MESSAGE_CHARS).optional(),
  }),
  z.object({
    progress: z.literal(true),
    mdMessage: z.string().max(MAX_MESSAGE_CHARS),
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
export const GONE_STATES: readonly GateState[] = ['timed-out', 'canceled'];
