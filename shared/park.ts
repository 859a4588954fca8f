/**
 * Parking and resuming (SPEC §9): the action ↔ relay protocol of a job that stops
 * waiting on its runner. The relay keeps a journal of each step's completion, the
 * parked jobs and what they wait for, and resumes the deployment with a
 * `workflow_dispatch` once every gate and upstream target a parked job waits for is final.
 */
import { z } from 'zod';
import { Attempt, GateId, MAX_GATES_PER_RUN, MAX_TARGETS_PER_RUN, Outputs, RunId, TargetName, TargetRecord } from './protocol.ts';

/** The workflow input that carries the deployment id into a resumed run. */
export const RESUME_INPUT = 'hookgate-resume';

/** Most journal entries one run keeps (422 `too_many_entries` past it): every gate and command of every target, and more. */
export const MAX_JOURNAL_ENTRIES = 5000;
/**
 * Most bytes of a journal request: a step's outputs may take MAX_OUTPUTS_BYTES (64 KiB) as JSON, and the
 * rest of the entry (its key of at most 1300 characters, the run id and URL, the step's name and times) needs room.
 */
export const MAX_JOURNAL_BODY_BYTES = 96 * 1024;
/** Most parked jobs one run keeps: one per target, and one for a job that runs every target. */
export const MAX_PARKED_JOBS = MAX_TARGETS_PER_RUN + 1;
/** Longest step message a journal entry keeps, in code points (the action cuts before sending). */
export const MAX_JOURNAL_MESSAGE_CHARS = 2000;
/** Most progress reports a journal entry keeps (the latest), each cut to MAX_JOURNAL_PROGRESS_CHARS. */
export const MAX_JOURNAL_PROGRESS = 5;
export const MAX_JOURNAL_PROGRESS_CHARS = 500;
/** How long the relay retries a resume GitHub refuses before it reports the resume failed (RESUME_RETRY_SECONDS overrides). */
export const DEFAULT_RESUME_RETRY_SECONDS = 60 * 60;

/**
 * The GitHub run a job ran in: its id, attempt and page. Shown on the approval page and in the
 * run view, and in a resumed run's report ("succeeded in run …").
 */
export const RunRef = z.strictObject({
  id: z.string().regex(/^[0-9A-Za-z_-]{1,40}$/, 'must be a workflow run id'),
  attempt: Attempt,
  /** http(s) only, so the page never renders another scheme; '' when unknown. */
  url: z.union([z.url({ protocol: /^https?$/ }), z.literal('')]),
});
export type RunRef = z.infer<typeof RunRef>;

/**
 * A job of the run: `*` for a job that runs every target, else the target of input `target`,
 * with `#beforeDeployment` or `#afterDeployment` appended in gate mode.
 */
export const JobKey = z.string().min(1).max(230);

/**
 * A journal entry's key: `<target>/<step key>` for a step (`prod/deploy`, `prod/strategy/2`,
 * `prod/beforeDeployment/0`), `<target>/<step key>#called` once a webhook was called,
 * `<target>#end` once a target ended.
 */
export const JournalKey = z.string().min(1).max(1300);

const StepKind = z.enum(['webhook', 'pause', 'approval', 'command']);
const StepPhase = z.enum(['beforeDeployment', 'deploy', 'strategy', 'afterDeployment', 'rollback']);
const StepState = z.enum(['succeeded', 'failed', 'timed-out', 'canceled', 'skipped']);
const FinalOutcome = z.enum(['succeeded', 'rolled-back', 'failed', 'canceled']);

/** A step that ended, as the action's report has it (action/engine/report.ts StepReport). */
export const JournalStep = z.strictObject({
  kind: StepKind,
  name: z.string().max(200),
  phase: StepPhase,
  state: StepState,
  message: z.string().max(MAX_JOURNAL_MESSAGE_CHARS).nullable(),
  progress: z.array(z.string().max(MAX_JOURNAL_PROGRESS_CHARS)).max(MAX_JOURNAL_PROGRESS),
  start: z.string().max(40),
  end: z.string().max(40),
  /** The decision's outputs (SPEC §11): a replayed step hands them to later steps as the original did. */
  outputs: Outputs.optional(),
});
export type JournalStep = z.infer<typeof JournalStep>;

/** What a journal entry records. */
export const JournalRecord = z.discriminatedUnion('type', [
  /** A step ended: a resumed run takes this report and never runs the step again. */
  z.strictObject({ type: z.literal('step'), step: JournalStep }),
  /** A webhook was called (its gate pending): a resumed run waits for the callback and never calls again. */
  z.strictObject({ type: z.literal('called') }),
  /** A target ended: a resumed run keeps the outcome. */
  z.strictObject({ type: z.literal('target'), outcome: FinalOutcome, message: z.string().max(MAX_JOURNAL_MESSAGE_CHARS) }),
]);
export type JournalRecord = z.infer<typeof JournalRecord>;

/** POST /v1/runs/journal: records one entry of an attempt; the first record of a key stands (a repeat answers `recorded: false`). */
export const JournalRequest = z.strictObject({
  runId: RunId,
  attempt: Attempt,
  key: JournalKey,
  record: JournalRecord,
  run: RunRef,
});
export type JournalRequest = z.infer<typeof JournalRequest>;

export const JournalEntry = z.object({
  key: JournalKey,
  attempt: Attempt,
  record: JournalRecord,
  /** The GitHub run that recorded it. */
  run: RunRef,
  at: z.number(),
});
export type JournalEntry = z.infer<typeof JournalEntry>;

export const JournalResponse = z.object({ recorded: z.boolean() });
export type JournalResponse = z.infer<typeof JournalResponse>;

/** Where the relay dispatches the resume: GITHUB_REPOSITORY, the workflow file of GITHUB_WORKFLOW_REF, and the branch or tag. */
export const ResumeTarget = z.strictObject({
  repository: z.string().regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, 'must be owner/repository'),
  /** The workflow file, e.g. `.github/workflows/deploy.yml`. */
  workflow: z.string().regex(/^\.github\/workflows\/[^/\s]{1,200}\.ya?ml$/, 'must be a file in .github/workflows'),
  /** GITHUB_REF: only `refs/heads/…` and `refs/tags/…` can be dispatched; another ref parks with a resume by hand. */
  ref: z.string().min(1).max(300),
});
export type ResumeTarget = z.infer<typeof ResumeTarget>;

/**
 * POST /v1/runs/park: the job stops waiting on its runner. `gateIds` are the gates it waits for,
 * `targets` the upstream targets (other jobs') whose final record it waits for. Parking again
 * (a resumed job that parks once more) replaces the job's park.
 */
export const ParkRequest = z.strictObject({
  runId: RunId,
  job: JobKey,
  attempt: Attempt,
  gateIds: z.array(GateId).max(MAX_GATES_PER_RUN),
  targets: z.array(TargetName).max(MAX_TARGETS_PER_RUN),
  resume: ResumeTarget,
  run: RunRef,
  /**
   * The login that started the parked attempt (GITHUB_TRIGGERING_ACTOR of its first run): a resumed
   * run is started by the App or by whoever resumed it, so preventSelfReview must keep this one.
   */
  initiator: z.string().max(100).optional(),
});
export type ParkRequest = z.infer<typeof ParkRequest>;

/**
 * How the parked deployment resumes: `automatic` (the relay's GitHub App dispatches the
 * workflow) or `manual` (no App, or a ref that cannot be dispatched: `reason` says which).
 */
export const ParkResponse = z.object({
  job: JobKey,
  resume: z.enum(['automatic', 'manual']),
  reason: z.string().nullable(),
});
export type ParkResponse = z.infer<typeof ParkResponse>;

/**
 * POST /v1/runs/resume: a job asks at start whether it continues a parked deployment.
 * `requested`: the run's event carries `hookgate-resume` (a dispatched resume, or one by hand).
 * `attempt` is GITHUB_RUN_ATTEMPT.
 */
export const ResumeRequest = z.strictObject({
  runId: RunId,
  job: JobKey,
  attempt: Attempt,
  requested: z.boolean(),
  run: RunRef,
});
export type ResumeRequest = z.infer<typeof ResumeRequest>;

/**
 * The answer. `continuing`: the deployment has a parked (or resumed, unfinished) job, so this
 * job continues its attempt: `attempt` is the attempt to use, `journal` its entries and
 * `targets` its target records. Not continuing: `attempt` is the one asked for, and the job
 * runs as it always did; `reason` says why there is nothing to continue.
 */
export const ResumeResponse = z.object({
  continuing: z.boolean(),
  attempt: Attempt,
  /** The run that parked the attempt (its first park); null when not continuing. */
  parkedBy: RunRef.nullable(),
  journal: z.array(JournalEntry).max(MAX_JOURNAL_ENTRIES),
  targets: z.array(TargetRecord).max(MAX_TARGETS_PER_RUN),
  reason: z.string().nullable(),
  /** Not continuing because another GitHub run is already continuing this job: that run. */
  heldBy: RunRef.nullable().optional(),
  /** The login that started the parked attempt, as its park recorded it; null when unknown. */
  initiator: z.string().max(100).nullable().optional(),
});
export type ResumeResponse = z.infer<typeof ResumeResponse>;

/** POST /v1/runs/unpark: the job that continued a parked attempt ended without parking again; its park is closed. */
export const UnparkRequest = z.strictObject({
  runId: RunId,
  job: JobKey,
  attempt: Attempt,
});
export type UnparkRequest = z.infer<typeof UnparkRequest>;

/** Its answer: the job's park, now `closed`; `state: null` when the job never parked. */
export const UnparkResponse = z.object({
  job: JobKey,
  state: z.literal('closed').nullable(),
});
export type UnparkResponse = z.infer<typeof UnparkResponse>;

/** A park's life: waiting for its gates; claimed by the job that continues it; closed once that job ended. */
export const ParkState = z.enum(['parked', 'claimed', 'closed']);
export type ParkState = z.infer<typeof ParkState>;

/**
 * A resume dispatch's life: `due` (to send, or retrying: `tries`, `error`), `sent` (GitHub accepted;
 * `runId`/`runUrl` when GitHub returned the run's details), `failed` (GitHub refused for longer
 * than the retry time: `error` is GitHub's message), `manual` (no GitHub App at the relay),
 * `unneeded` (every park it was for was claimed by a run started by hand first).
 */
export const DispatchState = z.enum(['due', 'sent', 'failed', 'manual', 'unneeded']);
export type DispatchState = z.infer<typeof DispatchState>;

export const ParkView = z.object({
  job: JobKey,
  attempt: Attempt,
  state: ParkState,
  gateIds: z.array(GateId),
  targets: z.array(TargetName),
  parkedAt: z.number(),
  parkedBy: RunRef,
  claimedBy: RunRef.nullable(),
});
export type ParkView = z.infer<typeof ParkView>;

export const DispatchView = z.object({
  state: DispatchState,
  resume: ResumeTarget,
  tries: z.number().int().min(0),
  /** GitHub's message of the last refusal, or why the resume is by hand. */
  error: z.string().nullable(),
  /** The resumed run, when GitHub returned its details (return_run_details). */
  runId: z.string().nullable(),
  runUrl: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type DispatchView = z.infer<typeof DispatchView>;

/** GET /v1/runs?run=<id>: the run view — its parks, its latest resume dispatch, its target records. */
export const RunView = z.object({
  runId: RunId,
  parks: z.array(ParkView),
  dispatch: DispatchView.nullable(),
  targets: z.array(TargetRecord),
});
export type RunView = z.infer<typeof RunView>;

/** The relay's health (GET /healthz): whether its GitHub App can resume parked runs. */
export const Health = z.object({
  ok: z.boolean(),
  githubApp: z.enum(['configured', 'not configured', 'misconfigured']),
  /** Sign in with GitHub on approval pages (issue 12): misconfigured = no one can decide until it is fixed. */
  signIn: z.enum(['configured', 'not configured', 'misconfigured']),
  message: z.string(),
});
export type Health = z.infer<typeof Health>;
