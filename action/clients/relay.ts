/** The action's side of the relay protocol: register, report the call, long-poll, cancel, park and resume. Answers are validated. */
import type { z } from 'zod';
import { CancelRunResponse, ErrorBody, FINAL_TARGET_STATUSES, GateView, RegisterGateResponse, TargetRecord } from '../../shared/protocol.ts';
import type { CancelRunRequest, GateCalledRequest, RegisterGateRequest, ReportTargetRequest } from '../../shared/protocol.ts';
import { JournalResponse, ParkResponse, ResumeResponse, UnparkResponse } from '../../shared/park.ts';
import type { JournalRequest, ParkRequest, ResumeRequest, UnparkRequest } from '../../shared/park.ts';
import { backoffMs, formatDuration, systemClock } from '../lib/time.ts';
import type { Clock } from '../lib/time.ts';

/** How long the relay holds one long-poll open, in seconds (its maximum is 30). */
const POLL_WINDOW_SECONDS = 25;
/** After the deadline, how long to keep asking a relay whose alarm has not yet stored `timed-out`. */
const DEADLINE_GRACE_MS = 2 * 60_000;

export class RelayError extends Error {
  readonly status: number | null;
  constructor(message: string, status: number | null) {
    super(message);
    this.name = 'RelayError';
    this.status = status;
  }
  /** Network errors, 5xx, 408 and 429 may pass; other answers will not change on retry. */
  get retryable(): boolean {
    return this.status === null || this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

/** The bearer credential: the relay's RELAY_TOKEN, or a function asked before every request (an OIDC token). */
export type RelayCredential = string | (() => Promise<string>);

export interface RelayClientOptions {
  baseUrl: string;
  token: RelayCredential;
  fetch?: typeof fetch;
}

export class RelayClient {
  private readonly baseUrl: string;
  private readonly token: RelayCredential;
  private readonly fetchImpl: typeof fetch;

  constructor(options: RelayClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Registers (idempotently) a gate. */
  register(request: RegisterGateRequest, signal?: AbortSignal): Promise<RegisterGateResponse> {
    return this.call('POST', '/v1/gates', RegisterGateResponse, { body: request, signal, timeoutMs: 30_000 });
  }

  /**
   * One long-poll: the gate's view when decided or, given `seen` (the number of the latest report
   * the caller has, 0 for none), when it holds a newer report; else after `waitSeconds` still pending.
   */
  poll(runId: string, gateId: string, waitSeconds: number, signal?: AbortSignal, seen?: number): Promise<GateView> {
    const query = new URLSearchParams({ run: runId, wait: String(waitSeconds) });
    if (seen !== undefined) query.set('seen', String(seen));
    return this.call('GET', `/v1/gates/${encodeURIComponent(gateId)}?${query}`, GateView, {
      signal,
      timeoutMs: (waitSeconds + 15) * 1000,
    });
  }

  /** Tells the relay the gate's webhook was called (2xx): a gate with heartbeatSeconds starts its heartbeat clock; a repeat changes nothing. */
  gateCalled(request: GateCalledRequest, signal?: AbortSignal): Promise<GateView> {
    return this.call('POST', '/v1/gates/called', GateView, { body: request, signal, timeoutMs: 30_000 });
  }

  /** Cancels the run's pending gates: only `gateIds`, else those of `target`, else all. */
  cancel(request: CancelRunRequest, signal?: AbortSignal): Promise<CancelRunResponse> {
    return this.call('POST', '/v1/runs/cancel', CancelRunResponse, { body: request, signal, timeoutMs: 30_000 });
  }

  /** Records a target's status in the run, for the jobs of the targets that depend on it. */
  reportTarget(request: ReportTargetRequest, signal?: AbortSignal): Promise<TargetRecord> {
    return this.call('POST', '/v1/runs/targets', TargetRecord, { body: request, signal, timeoutMs: 30_000 });
  }

  /** One long-poll of a target's record: at once when final, else when it becomes final or after `waitSeconds`. */
  pollTarget(runId: string, target: string, waitSeconds: number, signal?: AbortSignal): Promise<TargetRecord> {
    const query = new URLSearchParams({ run: runId, target, wait: String(waitSeconds) });
    return this.call('GET', `/v1/runs/targets?${query}`, TargetRecord, { signal, timeoutMs: (waitSeconds + 15) * 1000 });
  }

  /** Records a journal entry of the attempt (SPEC §9); the first record of a key stands. */
  journal(request: JournalRequest, signal?: AbortSignal): Promise<JournalResponse> {
    return this.call('POST', '/v1/runs/journal', JournalResponse, { body: request, signal, timeoutMs: 30_000 });
  }

  /** Parks the job: the relay waits for its gates and upstream targets, then resumes the deployment. */
  park(request: ParkRequest, signal?: AbortSignal): Promise<ParkResponse> {
    return this.call('POST', '/v1/runs/park', ParkResponse, { body: request, signal, timeoutMs: 30_000 });
  }

  /** Asks at start whether this job continues a parked attempt; the answer carries its journal. */
  resume(request: ResumeRequest, signal?: AbortSignal): Promise<ResumeResponse> {
    return this.call('POST', '/v1/runs/resume', ResumeResponse, { body: request, signal, timeoutMs: 30_000 });
  }

  /** Closes the job's park: it continued and ended without parking again. */
  async unpark(request: UnparkRequest, signal?: AbortSignal): Promise<void> {
    await this.call('POST', '/v1/runs/unpark', UnparkResponse, { body: request, signal, timeoutMs: 30_000 });
  }

  /**
   * One request to the relay: the bearer credential, a timeout, the relay's error body and the
   * answer's schema. No retries; network errors and retryable answers are RelayErrors that say so.
   */
  async call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options: { body?: unknown; signal?: AbortSignal | undefined; timeoutMs: number },
  ): Promise<z.infer<S>> {
    const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]);
    let response: Response;
    let token: string;
    try {
      // The runner's token service is a network service too: bounded like the fetch, its failures retried like the relay's.
      token = typeof this.token === 'string' ? this.token : await unlessAborted(this.token(), signal);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new RelayError(`could not get an OIDC token for the relay: ${describeNetworkError(error).replace(/\s+/g, ' ')}`, null);
    }
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: options.body === undefined ? null : JSON.stringify(options.body),
        signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new RelayError(`relay unreachable: ${describeNetworkError(error)}`, null);
    }
    const text = await response.text().catch(() => '');
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      // handled below
    }
    if (!response.ok) {
      const error = ErrorBody.safeParse(json);
      const detail = error.success ? error.data.message : `HTTP ${response.status}`;
      throw new RelayError(`relay answered ${response.status}: ${detail}`, response.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new RelayError(`relay sent an unexpected answer to ${method} ${path.split('?')[0]}`, null);
    return parsed.data;
  }
}

/** `promise`, or a rejection with the signal's reason once it aborts first. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

export interface WaitOptions {
  signal?: AbortSignal;
  clock?: Clock;
  /** Called at least once a minute while nothing happens. */
  onWaiting?: (elapsedMs: number, gate: GateView) => void;
  /** Called once for each new progress report, oldest first. */
  onProgress?: (message: string) => void;
  /** Called when the relay cannot be reached; the wait goes on. */
  onRelayError?: (error: RelayError, retryInMs: number) => void;
  waitingLogEveryMs?: number;
}

/**
 * Long-polls until the gate leaves `pending`. Survives network errors, relay
 * restarts and 5xx answers by retrying with backoff until the gate's deadline
 * (plus a grace for the relay's alarm); a relay gone past that ends as timed-out.
 */
export function waitForDecision(client: RelayClient, gate: GateView, options: WaitOptions = {}): Promise<GateView> {
  // Reports are told apart by their number: the relay keeps only the latest, so positions shift.
  let lastSeq = latestSeq(gate.progress);
  return pollUntil(gate, options, {
    finished(current, now) {
      if (current.state !== 'pending') return current;
      if (now <= current.deadline + DEADLINE_GRACE_MS) return undefined;
      return {
        ...current,
        state: 'timed-out',
        message: `no decision by the deadline, and the relay did not answer for ${formatDuration(now - current.deadline)} after it`,
        decidedAt: now,
      };
    },
    async poll(window) {
      // `seen`: a report posted between two polls answers the next one at once, not when its window ends.
      const next = await client.poll(gate.runId, gate.gateId, window, options.signal, lastSeq);
      const fresh = next.progress.filter((report) => report.seq > lastSeq).sort((a, b) => a.seq - b.seq);
      for (const report of fresh) options.onProgress?.(report.message);
      lastSeq = Math.max(lastSeq, latestSeq(next.progress));
      return next;
    },
  });
}

/** The highest report number in `progress`; 0 for none. */
function latestSeq(progress: GateView['progress']): number {
  return progress.reduce((highest, report) => Math.max(highest, report.seq), 0);
}

export interface TargetWaitOptions {
  signal?: AbortSignal;
  clock?: Clock;
  /** Give up (and answer the last record seen) after this long. */
  maxWaitMs: number;
  /** Called at least once a minute while the target is not final. */
  onWaiting?: (elapsedMs: number, record: TargetRecord) => void;
  onRelayError?: (error: RelayError, retryInMs: number) => void;
  waitingLogEveryMs?: number;
}

/**
 * Long-polls a target's record until it is final (succeeded, rolled-back, failed,
 * canceled); on `maxWaitMs` it answers the last record seen, which is not final.
 */
export function waitForTarget(client: RelayClient, runId: string, target: string, options: TargetWaitOptions): Promise<TargetRecord> {
  // Nothing is known before the first answer, which is asked for without waiting.
  return pollUntil<TargetRecord>(null, options, {
    finished: (current, _now, elapsed) =>
      FINAL_TARGET_STATUSES.includes(current.status) || elapsed >= options.maxWaitMs ? current : undefined,
    poll: (window) => client.pollTarget(runId, target, window, options.signal),
  });
}

interface PollLoop<T> {
  /** The answer once waiting is over, else undefined. */
  finished(current: T, now: number, elapsedMs: number): T | undefined;
  poll(windowSeconds: number): Promise<T>;
}

/**
 * The long-poll loop both waits share: a log line at least every `waitingLogEveryMs`
 * (each window ends in time for it), and retries with backoff through network
 * errors and retryable answers. `start` null: the first poll does not wait.
 */
async function pollUntil<T>(
  start: T | null,
  options: Pick<WaitOptions, 'signal' | 'clock' | 'waitingLogEveryMs'> & {
    onWaiting?: (elapsedMs: number, current: T) => void;
    onRelayError?: (error: RelayError, retryInMs: number) => void;
  },
  loop: PollLoop<T>,
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const logEvery = options.waitingLogEveryMs ?? 60_000;
  const started = clock.now();
  let lastLog = started;
  let failures = 0;
  let current = start;
  for (;;) {
    const now = clock.now();
    if (current !== null) {
      const done = loop.finished(current, now, now - started);
      if (done !== undefined) return done;
      if (now - lastLog >= logEvery) {
        options.onWaiting?.(now - started, current);
        lastLog = now;
      }
    }
    try {
      const window = current === null ? 0 : Math.max(1, Math.min(POLL_WINDOW_SECONDS, Math.ceil((logEvery - (now - lastLog)) / 1000)));
      current = await loop.poll(window);
      failures = 0;
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (!(error instanceof RelayError) || !error.retryable) throw error;
      const delay = backoffMs(failures++, 500, 10_000);
      options.onRelayError?.(error, delay);
      await clock.sleep(delay, options.signal);
    }
  }
}
