/**
 * When to park (SPEC §9): the job parks once it has been only waiting — no command, pause,
 * webhook call or registration in flight, at least one gate long-poll or upstream wait going
 * on — continuously for `park-after`. Then it aborts its signal with a `Parking` reason.
 */
import type { GateKind } from '../../shared/protocol.ts';
import { Parking } from '../engine/parking.ts';
import type { Clock } from '../lib/time.ts';

/** A gate the job waits for, as the park request and the job summary need it. */
export interface PendingGate {
  gateId: string;
  target: string;
  name: string;
  kind: GateKind;
  approvalUrl: string | null;
  deadline: number;
}

/** What the job was waiting for when it parked. */
export interface Waits {
  gates: PendingGate[];
  /** Upstream targets other jobs deploy. */
  targets: string[];
}

type Wait = { gate: PendingGate } | { target: string };

/** Decides when the job parks; inert without `park-after` (parkAfterMs null). */
export class ParkWatch {
  /** Aborts with a `Parking` reason when the job parks. */
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly waits = new Map<number, Wait>();
  private busy = 0;
  private nextId = 0;
  private timer: AbortController | null = null;
  private off = false;
  private parkedWith: Waits | null = null;
  private readonly parkAfterMs: number | null;
  private readonly clock: Clock;

  constructor(parkAfterMs: number | null, clock: Clock) {
    this.parkAfterMs = parkAfterMs;
    this.clock = clock;
    this.signal = this.controller.signal;
  }

  /** Whether this job may still park. */
  get enabled(): boolean {
    return this.parkAfterMs !== null && !this.off;
  }

  /** What the job waited for when it parked; null while it has not. */
  get parked(): Waits | null {
    return this.parkedWith;
  }

  /** Runs `work` as busy: the job does not park while it runs (a command, a call, a registration, a pause). */
  async busyWhile<T>(work: () => Promise<T>): Promise<T> {
    this.change(1);
    try {
      return await work();
    } finally {
      this.change(-1);
    }
  }

  /** Runs `wait`, inside busy work, as waiting on a gate or an upstream target: meanwhile it only waits. */
  async waitingOn<T>(on: Wait, wait: () => Promise<T>): Promise<T> {
    const id = this.nextId++;
    this.waits.set(id, on);
    this.change(-1);
    try {
      return await wait();
    } finally {
      this.waits.delete(id);
      this.change(1);
    }
  }

  /** No parking for the rest of the job (a journal write failed: a park without it could repeat a step). */
  disable(): void {
    this.off = true;
    this.stopTimer();
  }

  private change(delta: number): void {
    this.busy += delta;
    if (this.busy === 0 && this.waits.size > 0 && this.enabled && !this.signal.aborted) this.startTimer();
    else this.stopTimer();
  }

  private startTimer(): void {
    if (this.timer || this.parkAfterMs === null) return;
    const timer = new AbortController();
    this.timer = timer;
    this.clock.sleep(this.parkAfterMs, timer.signal).then(
      () => {
        if (this.timer !== timer) return;
        this.timer = null;
        this.park();
      },
      () => undefined,
    );
  }

  private stopTimer(): void {
    this.timer?.abort();
    this.timer = null;
  }

  private park(): void {
    if (!this.enabled || this.signal.aborted) return;
    const waits = [...this.waits.values()];
    this.parkedWith = {
      // An approval's gate may be waited for by its step and by a webhook of its list.
      gates: [...new Map(waits.flatMap((w) => ('gate' in w ? [[w.gate.gateId, w.gate] as const] : []))).values()],
      targets: [...new Set(waits.flatMap((w) => ('target' in w ? [w.target] : [])))],
    };
    this.controller.abort(new Parking());
  }
}
