/**
 * One Durable Object per repository and application: the deploy queue (SPEC §11, Armory's
 * `deploymentConfig.ifDeploymentInProgress`). It keeps the deployment that holds the
 * application and at most one waiting, in SQLite (relay/queue/store.ts), applies the rules of
 * relay/queue/rules.ts, and keeps one alarm for the nearest lease end. Once nobody holds or
 * waits its storage is deleted. It answers QueueViews; HTTP is the edge's business.
 */
import { DurableObject } from 'cloudflare:workers';
import type { EnterQueueRequest, LeaveQueueRequest, QueueView, RenewQueueRequest } from '../../shared/queue.ts';
import type { Change } from './rules.ts';
import { enter, expire, leave, look, renew } from './rules.ts';
import { QueueStore } from './store.ts';
import { MAX_WAKE_TRIES, sendWake, wakeRetryAt } from './wake.ts';
import type { QueueEnv } from './wake.ts';

/** How long a decision being sent stays claimed: past it, the alarm sends it again (an evicted object). */
const CLAIM_MS = 60_000;

export class QueueObject extends DurableObject<QueueEnv> {
  private readonly queue: QueueStore;
  /** False until the tables exist: at start, and again once the storage was deleted. */
  private schemaReady = false;

  constructor(ctx: DurableObjectState, env: QueueEnv) {
    super(ctx, env);
    this.queue = new QueueStore(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => this.store);
  }

  private get store(): QueueStore {
    if (!this.schemaReady) {
      this.queue.createSchema();
      this.schemaReady = true;
    }
    return this.queue;
  }

  /** POST /v1/queue/enter: holding, waiting (enqueueOne), rejected (reject), or replaced. */
  enter(request: EnterQueueRequest): Promise<QueueView> {
    return this.apply((store, now) => enter(store, request, now));
  }

  /** POST /v1/queue/renew: the caller's place kept for another lease, or until `holdUntil`. */
  renew(request: RenewQueueRequest): Promise<QueueView> {
    return this.apply((store, now) => renew(store, request, now));
  }

  /** POST /v1/queue/leave: the target's job (or the whole deployment) ended. */
  leave(request: LeaveQueueRequest): Promise<QueueView> {
    return this.apply((store, now) => leave(store, request, now));
  }

  /** GET /v1/queue: where `runId` stands. */
  view(runId: string): Promise<QueueView> {
    return this.apply((store, now) => look(store, runId, now));
  }

  /** A lease ran out (its place ends, a holder's end lets the waiting one go on), or a decision is to be sent again. */
  override async alarm(): Promise<void> {
    await this.apply((store, now) => ({ view: { position: 'gone', holder: null, replacedBy: null }, wakes: expire(store, now) }));
  }

  /**
   * Applies a change in one synchronous stretch, storing the decisions it makes in the outbox with
   * it; then moves the alarm (or deletes the storage of an empty queue) and sends what is due:
   * the queue is stored before anyone hears of it, and no decision is lost to a failed send.
   */
  private async apply(change: (store: QueueStore, now: number) => Change): Promise<QueueView> {
    const now = Date.now();
    const { view, wakes } = change(this.store, now);
    this.store.addWakes(wakes, now);
    const due = this.store.claimDueWakes(now, CLAIM_MS);
    await this.settle();
    if (due.length === 0) return view;
    const sent = await Promise.all(due.map(async (wake) => ({ wake, ok: await sendWake(this.env, wake) })));
    for (const { wake, ok } of sent) {
      if (ok) this.store.dropWake(wake.id);
      else if (wake.tries + 1 >= MAX_WAKE_TRIES) {
        console.error('deploy queue: gave up deciding a queue gate', wake.runId, wake.gateId);
        this.store.dropWake(wake.id);
      } else this.store.retryWake(wake.id, wake.tries + 1, wakeRetryAt(wake.tries + 1, Date.now()));
    }
    await this.settle();
    return view;
  }

  /** The alarm at the next thing to do; with nothing stored, no storage at all. */
  private async settle(): Promise<void> {
    const next = this.store.nextAlarm();
    if (next === null) {
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      this.schemaReady = false;
    } else {
      await this.ctx.storage.setAlarm(next);
    }
  }
}
