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
import { sendWakes } from './wake.ts';
import type { QueueEnv } from './wake.ts';

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

  /** A lease ran out: its place ends, and a holder's end lets the waiting one go on. */
  override async alarm(): Promise<void> {
    await this.apply((store, now) => ({ view: { position: 'gone', holder: null, replacedBy: null }, wakes: expire(store, now) }));
  }

  /**
   * Applies a change in one synchronous stretch, then moves the alarm (or deletes the storage of
   * an empty queue) before the gates are decided: the queue is stored before anyone hears of it.
   */
  private async apply(change: (store: QueueStore, now: number) => Change): Promise<QueueView> {
    const { view, wakes } = change(this.store, Date.now());
    const next = this.store.nextLeaseEnd();
    if (next === null) {
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      this.schemaReady = false;
    } else {
      await this.ctx.storage.setAlarm(next);
    }
    await sendWakes(this.env, wakes);
    return view;
  }
}
