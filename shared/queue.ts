/**
 * The deploy queue (SPEC §11, Armory's `deploymentConfig.ifDeploymentInProgress`): one deployment
 * of an application at a time per repository, kept by one Durable Object per repository and
 * application. `reject` refuses a deployment while another one holds the application;
 * `enqueueOne` lets one deployment wait, a newer one replacing the one waiting (as GitHub's
 * concurrency groups do).
 *
 * A holder keeps its place with a lease the action renews while it runs (RENEW_EVERY_SECONDS);
 * a job that died loses it after LEASE_SECONDS. A parked job holds it until its gates' latest deadline.
 */
import { z } from 'zod';
import { Attempt, GateId, MAX_GATE_TIMEOUT_SECONDS, MAX_TARGETS_PER_RUN, RunId, TargetName } from './protocol.ts';

/** The name of a waiting deployment's queue gate: the relay decides only such gates. */
export const QUEUE_GATE_NAME = 'deploy queue';

/** How long a running holder's place is kept without a renewal. */
export const LEASE_SECONDS = 10 * 60;
/** How often the action renews its lease while it runs. */
export const RENEW_EVERY_SECONDS = 2 * 60;

export const QueueStrategy = z.enum(['reject', 'enqueueOne']);
export type QueueStrategy = z.infer<typeof QueueStrategy>;

/** Which queue: the repository (`owner/repo`) and the file's application. */
export const QueueKey = z.strictObject({
  repository: z.string().regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, 'must be owner/repository'),
  application: z.string().min(1).max(200),
});
export type QueueKey = z.infer<typeof QueueKey>;

/** A deployment in the queue, as the relay shows it to others (to name who holds the application). */
export const QueueMember = z.object({
  runId: RunId,
  attempt: Attempt,
  /** The workflow run's page; '' when unknown. */
  runUrl: z.union([z.url({ protocol: /^https?$/ }), z.literal('')]),
  since: z.number(),
});
export type QueueMember = z.infer<typeof QueueMember>;

/**
 * POST /v1/queue/enter. The same deployment entering again (a re-run, a resumed run) keeps its
 * place: a holder stays the holder, the waiting one keeps waiting.
 */
export const EnterQueueRequest = QueueKey.extend({
  runId: RunId,
  attempt: Attempt,
  runUrl: z.union([z.url({ protocol: /^https?$/ }), z.literal('')]),
  strategy: QueueStrategy,
  /**
   * Every target of the deployment: with one job per environment each job enters and leaves for its
   * own target, and the application is free once every target left (or the lease ran out).
   */
  targets: z.array(TargetName).min(1).max(MAX_TARGETS_PER_RUN),
  /**
   * A waiting deployment's queue gate (a webhook gate of its own run, registered after `waiting`):
   * the relay decides it (success) when the deployment becomes the holder, or fails it when a newer
   * one replaces it. So the waiting job can park on it like on any gate (SPEC §9).
   */
  wakeGateId: GateId.optional(),
});
export type EnterQueueRequest = z.infer<typeof EnterQueueRequest>;

/**
 * Where a deployment stands. `holding`: it may deploy; `waiting`: another holds the application
 * (enqueueOne); `rejected`: another holds it (reject); `replaced`: a newer deployment took its
 * waiting place; `gone`: it is not in the queue (it left, or its lease ran out).
 */
export const QueuePosition = z.enum(['holding', 'waiting', 'rejected', 'replaced', 'gone']);
export type QueuePosition = z.infer<typeof QueuePosition>;

export const QueueView = z.object({
  position: QueuePosition,
  /** Who holds the application now; null when nobody, or when it is this deployment. */
  holder: QueueMember.nullable(),
  /** The deployment that replaced this one (position `replaced`); null otherwise. */
  replacedBy: QueueMember.nullable(),
});
export type QueueView = z.infer<typeof QueueView>;

/**
 * POST /v1/queue/renew: the holder or the waiting one is alive. `holdUntil` (epoch ms, at most 30
 * days ahead) keeps a parked job's place until then instead of LEASE_SECONDS from now.
 */
export const RenewQueueRequest = QueueKey.extend({
  runId: RunId,
  holdUntil: z.number().int().positive().optional(),
  /**
   * The job's target (one job per environment); absent: a job of every target. Holds are kept per
   * job: a renewal replaces only its own job's hold, so a sibling's renewal leaves a parked job's
   * hold standing while the job's own resumed run ends it.
   */
  target: TargetName.optional(),
});
export type RenewQueueRequest = z.infer<typeof RenewQueueRequest>;

/** POST /v1/queue/leave: the deployment ended (or was canceled); the waiting one, if any, becomes the holder. */
export const LeaveQueueRequest = QueueKey.extend({
  runId: RunId,
  /** The target whose job ended; absent: the whole deployment ended. */
  target: TargetName.optional(),
});
export type LeaveQueueRequest = z.infer<typeof LeaveQueueRequest>;

/** Longest `holdUntil` ahead of now the relay accepts: a gate's longest timeout. */
export const MAX_HOLD_SECONDS = MAX_GATE_TIMEOUT_SECONDS;
