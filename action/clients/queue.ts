/**
 * The action's side of the deploy queue's routes (SPEC §11): enter, renew, leave. Answers are
 * validated; network errors and retryable answers are tried again a few times.
 */
import { ErrorBody } from '../../shared/protocol.ts';
import { QueueView } from '../../shared/queue.ts';
import type { EnterQueueRequest, LeaveQueueRequest, RenewQueueRequest } from '../../shared/queue.ts';
import { RelayError } from './relay.ts';
import type { RelayCredential } from './relay.ts';
import { backoffMs, systemClock } from '../lib/time.ts';
import type { Clock } from '../lib/time.ts';

/** The queue's routes as the effects use them (tests pass a fake). */
export interface QueueApi {
  enter(request: EnterQueueRequest, signal?: AbortSignal): Promise<QueueView>;
  renew(request: RenewQueueRequest, signal?: AbortSignal): Promise<QueueView>;
  leave(request: LeaveQueueRequest, signal?: AbortSignal): Promise<QueueView>;
}

export interface QueueClientOptions {
  baseUrl: string;
  token: RelayCredential;
  fetch?: typeof fetch;
  clock?: Clock;
}

/** Tries of one request through network errors, 5xx, 408 and 429. */
const TRIES = 4;
const TIMEOUT_MS = 30_000;

export class QueueClient implements QueueApi {
  private readonly baseUrl: string;
  private readonly token: RelayCredential;
  private readonly fetchImpl: typeof fetch;
  private readonly clock: Clock;

  constructor(options: QueueClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.fetchImpl = options.fetch ?? fetch;
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
        return await this.once(route, body, signal);
      } catch (error) {
        if (signal?.aborted || tries >= TRIES || !(error instanceof RelayError && error.retryable)) throw error;
        await this.clock.sleep(backoffMs(tries - 1), signal);
      }
    }
  }

  private async once(route: string, body: unknown, signal: AbortSignal | undefined): Promise<QueueView> {
    const signals = [AbortSignal.timeout(TIMEOUT_MS), ...(signal ? [signal] : [])];
    let response: Response;
    try {
      const token = typeof this.token === 'string' ? this.token : await this.token();
      response = await this.fetchImpl(`${this.baseUrl}/v1/queue/${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new RelayError(`relay unreachable: ${error instanceof Error ? error.message : String(error)}`, null);
    }
    const text = await response.text().catch(() => '');
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      // judged below
    }
    if (!response.ok) {
      const refused = ErrorBody.safeParse(json);
      throw new RelayError(`relay answered ${response.status}: ${refused.success ? refused.data.message : `HTTP ${response.status}`}`, response.status);
    }
    const parsed = QueueView.safeParse(json);
    if (!parsed.success) throw new RelayError(`relay sent an unexpected answer to POST /v1/queue/${route}`, null);
    return parsed.data;
  }
}
