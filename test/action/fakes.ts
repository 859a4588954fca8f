/** Plain-object builders and fakes shared by the action's unit tests. */
import type { GateView } from '../../shared/protocol.ts';
import type { Commands, GateItem, Location, Plan, Strategy, StrategyStep, TargetPlan } from '../../action/plan/plan.ts';
import type { StepKind, StepPhase, StepReport, StepState, TargetOutcome, TargetReport } from '../../action/engine/report.ts';
import type { DeploymentEffects, GateList, GatePhase, ReportedStatus, StatusDetail } from '../../action/engine/effects.ts';
import type { Clock } from '../../action/lib/time.ts';
import { isParking } from '../../action/engine/parking.ts';

export const here: Location = { file: 'deploy.yml', line: 1, col: 1 };

export function webhook(name: string): Extract<GateItem, { kind: 'webhook' }> {
  return { kind: 'webhook', webhook: name, context: {}, location: here };
}

/** An approval pause: anyone with write access decides unless `fields` say otherwise. */
export function approval(fields: Partial<Omit<Extract<GateItem, { kind: 'approval' }>, 'kind'>> = {}): Extract<GateItem, { kind: 'approval' }> {
  return { kind: 'approval', expirationSeconds: null, roles: [], approvers: [], ownerTeams: [], minimumApprovals: 1, preventSelfReview: false, location: here, ...fields };
}

export function setWeight(weight: number): StrategyStep {
  return { kind: 'setWeight', weight, location: here };
}

export function target(name: string, fields: Partial<Omit<TargetPlan, 'name'>> = {}): TargetPlan {
  return { name, dependsOn: [], commands: {}, beforeDeployment: [], strategy: null, afterDeployment: [], ...fields };
}

export function pause(seconds: number): Extract<GateItem, { kind: 'pause' }> {
  return { kind: 'pause', seconds, location: here };
}

export function canary(...steps: StrategyStep[]): Strategy {
  return { kind: 'canary', name: 'canary-with-checks', steps };
}

export function blueGreen(redirectTrafficAfter: GateItem[], shutDownOldVersionAfter: GateItem[]): Strategy {
  return { kind: 'blueGreen', name: 'bg', redirectTrafficAfter, shutDownOldVersionAfter };
}

export function plan(targets: TargetPlan[]): Plan {
  return { file: 'deploy.yml', application: 'potato-facts', context: {}, targets, webhooks: {}, notices: [], deploymentQueue: null };
}

/** A clock whose sleep advances virtual time at once; it honours abort signals like the real one. */
export class FakeClock implements Clock {
  current: number;
  readonly sleeps: number[] = [];

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.sleeps.push(ms);
    this.current += ms;
    return Promise.resolve();
  }
}

/** A clock whose sleeps wait until the test advances it past their end; for timers that must not fire at once. */
export class ManualClock implements Clock {
  current: number;
  private readonly timers: { at: number; resolve: () => void }[] = [];

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Moves time on, resolving the sleeps that end by then; lets their callbacks run. */
  async advance(ms: number): Promise<void> {
    this.current += ms;
    for (const timer of this.timers.filter((t) => t.at <= this.current)) {
      this.timers.splice(this.timers.indexOf(timer), 1);
      timer.resolve();
    }
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const timer = { at: this.current + ms, resolve };
      this.timers.push(timer);
      signal?.addEventListener('abort', () => {
        const index = this.timers.indexOf(timer);
        if (index >= 0) this.timers.splice(index, 1);
        reject(signal.reason);
      }, { once: true });
    });
  }
}

/** A promise with its resolver exposed, for holding a step open until the test says so. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves with `value`, or rejects when `ms` of real time pass first: a hang becomes a failure. */
export function within<T>(ms: number, value: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms);
  });
  return Promise.race([value, timeout]).finally(() => clearTimeout(timer));
}

/**
 * How a fake gate ends: a state at once, `hang` until its signal aborts (then `canceled`),
 * or a state once `release` resolves.
 */
export type GateScript = StepState | 'hang' | { state: StepState; release: Promise<void> };

/** An upstream target's outcome: at once, once the promise resolves, or `hang` until the wait is aborted. */
export type UpstreamScript = Upstream | Promise<Upstream> | 'hang';
type Upstream = { outcome: TargetOutcome; message: string };

export interface GateCall {
  target: string;
  phase: GatePhase;
  key: string;
  name: string;
  signal: AbortSignal;
  list: GateList;
}

/** Effects that record every call, in order, as one line each. */
export class FakeEffects implements DeploymentEffects {
  readonly calls: string[] = [];
  /** Every status recorded for the relay, as `target status`. */
  readonly statuses: string[] = [];
  /** Outcomes of upstream targets other jobs deploy; unlisted ones succeeded. */
  readonly upstreams = new Map<string, UpstreamScript>();
  readonly upstreamCalls: string[] = [];
  /** The signal each upstream wait got, by target. */
  readonly upstreamSignals = new Map<string, AbortSignal>();
  readonly gateCalls: GateCall[] = [];
  readonly logs: string[] = [];
  /** By webhook name; unlisted gates succeed. */
  readonly gates = new Map<string, GateScript>();
  /** `target:command` (or `target:setWeight 50`) that exit non-zero. */
  readonly failingCommands = new Set<string>();
  /** `target:command` held open until the promise resolves. */
  readonly heldCommands = new Map<string, Promise<void>>();
  /** Targets a parked attempt ended (a continuing job); default none. */
  kept: (target: TargetPlan) => TargetReport | null = () => null;
  /** Called when a command starts, before it finishes. */
  onCommand: (target: string, command: keyof Commands) => void = () => {};
  readonly clock: FakeClock;

  constructor(clock = new FakeClock()) {
    this.clock = clock;
  }

  now(): number {
    return this.clock.now();
  }

  log(target: TargetPlan, message: string): void {
    this.logs.push(`${target.name}: ${message}`);
  }

  status(target: TargetPlan, status: ReportedStatus, _message: string, detail?: StatusDetail): Promise<void> {
    this.statuses.push(`${target.name} ${status}${detail?.rollbackFailed ? ' (rollback failed)' : ''}`);
    return Promise.resolve();
  }

  async upstream(target: string, signal: AbortSignal): Promise<Upstream> {
    this.upstreamCalls.push(target);
    this.upstreamSignals.set(target, signal);
    const script = this.upstreams.get(target) ?? { outcome: 'succeeded', message: '' };
    if (script !== 'hang') return script;
    // Like the real wait: an aborted wait ends canceled at once (parked when the job parks).
    await aborted(signal);
    if (isParking(signal.reason)) return { outcome: 'parked', message: 'the job parked while waiting for it' };
    return { outcome: 'canceled', message: `its outcome could not be read: ${reasonText(signal.reason)}` };
  }

  async gate(target: TargetPlan, phase: GatePhase, item: GateItem, key: string, signal: AbortSignal, list: GateList): Promise<StepReport> {
    const name = item.kind === 'webhook' ? item.webhook : item.kind;
    this.calls.push(`${target.name} gate ${phase} ${key} ${name}`);
    this.gateCalls.push({ target: target.name, phase, key, name, signal, list });
    const script = this.gates.get(name) ?? 'succeeded';
    const start = this.clock.now();
    const kind: StepKind = item.kind;
    if (script === 'hang') {
      await aborted(signal);
      // Like the real gates: a park leaves the gate pending, a cancel withdraws it.
      if (isParking(signal.reason)) return this.step(kind, name, phase, 'parked', 'parked', start);
      return this.step(kind, name, phase, 'canceled', `canceled: ${String(reasonText(signal.reason))}`, start);
    }
    if (typeof script === 'string') {
      await Promise.resolve();
      return this.step(kind, name, phase, script, script === 'succeeded' ? null : `${name} said no`, start);
    }
    await script.release;
    return this.step(kind, name, phase, script.state, null, start);
  }

  async command(
    target: TargetPlan,
    command: keyof Commands,
    phase: StepPhase,
    env: Record<string, string>,
    signal: AbortSignal,
  ): Promise<StepReport> {
    const label = env.HOOKGATE_WEIGHT === undefined ? command : `${command} ${env.HOOKGATE_WEIGHT}`;
    this.calls.push(`${target.name} command ${phase} ${label}`);
    this.onCommand(target.name, command);
    const start = this.clock.now();
    // Like runCommand: a canceled run stops a held command, and the step fails.
    await Promise.race([this.heldCommands.get(`${target.name}:${command}`) ?? Promise.resolve(), aborted(signal)]);
    const failed = this.failingCommands.has(`${target.name}:${label}`) || signal.aborted;
    return this.step('command', label, phase, failed ? 'failed' : 'succeeded', failed ? 'exited with 1' : null, start);
  }

  /** The recorded calls of one target. */
  callsOf(name: string): string[] {
    return this.calls.filter((call) => call.startsWith(`${name} `));
  }

  private step(kind: StepKind, name: string, phase: StepPhase, state: StepState, message: string | null, start: number): StepReport {
    return {
      kind,
      name,
      phase,
      state,
      message,
      progress: [],
      start: new Date(start).toISOString(),
      end: new Date(this.clock.now()).toISOString(),
    };
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

export const GATE_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** A relay gate view as the relay would send it. */
export function gateView(fields: Partial<GateView> = {}): GateView {
  return {
    gateId: GATE_ID,
    runId: 'octo/app/42',
    stepKey: 'attempt-1/staging/beforeDeployment/0/Run-Tests',
    target: 'staging',
    phase: 'beforeDeployment',
    name: 'Run-Tests',
    kind: 'webhook',
    attempt: 1,
    state: 'pending',
    message: null,
    decidedBy: null,
    createdAt: 0,
    deadline: 24 * 3600_000,
    decidedAt: null,
    progress: [],
    outputs: null,
    heartbeatSeconds: null,
    lastHeardAt: null,
    ...fields,
  };
}
