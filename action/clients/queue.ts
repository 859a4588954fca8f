/**
 * The action's side of the deploy queue's routes (SPEC §11): enter, renew, leave, through
 * RelayClient's call (credential, timeout, error body, validated answer). Network errors and
 * retryable answers are tried again a few times.
 */
import { QueueView } from '../../shared/queue.ts';
import type { EnterQueueRequest, LeaveQueueRequest, RenewQueueRequest } from '../../shared/queue.ts';
import { RelayClient, RelayError } from './relay.ts';
import type { RelayClientOptions } from './relay.ts';
import { backoffMs, systemClock } from '../lib/time.ts';
import type { Clock } from '../lib/time.ts';

/** The queue's routes as the effects use them (tests pass a fake). */
export interface QueueApi {
  enter(request: EnterQueueRequest, signal?: AbortSignal): Promise<QueueView>;
  renew(request: RenewQueueRequest, signal?: AbortSignal): Promise<QueueView>;
  leave(request: LeaveQueueRequest, signal?: AbortSignal): Promise<QueueView>;
}

export type QueueClientOptions = RelayClientOptions & { clock?: Clock };

/** Tries of one request through network errors, 5xx, 408 and 429. */
const TRIES = 4;
const TIMEOUT_MS = 30_000;

export class QueueClient implements QueueApi {
  private readonly relay: RelayClient;
  private readonly clock: Clock;

  constructor(options: QueueClientOptions) {
    this.relay = new RelayClient(options);
    this.clock = options.clock ?? systemClock;
  }

  enter(request: EnterQueueRequest, signal?: AbortSignal): Promise<QueueView> {
    return this.post('enter', request, signal);
  }

  renew(request: RenewQueueRequest, signal?: AbortSignal): Promise<QueueView> {
    return this.post('renew', request, signal);
  }

  leave(request: LeaveQueueRequest, signal?: AbortSignal): Promise<QueueView> {
    return this.post('leave', request, signal);
  }

  private async post(route: string, body: unknown, signal: AbortSignal | undefined): Promise<QueueView> {
    for (let tries = 1; ; tries++) {
      try {
        return await this.relay.call('POST', `/v1/queue/${route}`, QueueView, { body, signal, timeoutMs: TIMEOUT_MS });
      } catch (error) {
        if (signal?.aborted || tries >= TRIES || !(error instanceof RelayError && error.retryable)) throw error;
        await this.clock.sleep(backoffMs(tries - 1), signal);
      }
    }
  }
}
