/**
 * The journal (SPEC §9): each step that ended, each webhook called while its gate is pending,
 * and each target's end, recorded at the relay before the next step starts, so a resumed run
 * continues and never repeats. A job continuing a parked attempt replays what it finds.
 */
import { MAX_JOURNAL_MESSAGE_CHARS, MAX_JOURNAL_PROGRESS, MAX_JOURNAL_PROGRESS_CHARS } from '../../shared/park.ts';
import type { JournalEntry, JournalRecord, JournalStep, RunRef } from '../../shared/park.ts';
import { MAX_BODY_BYTES } from '../../shared/protocol.ts';
import type { TargetRecord } from '../../shared/protocol.ts';
import { truncateCodePoints } from '../../shared/text.ts';
import { RelayError } from '../clients/relay.ts';
import type { RelayClient } from '../clients/relay.ts';
import type { FinalOutcome, StepReport, TargetReport } from '../engine/report.ts';
import { errorMessage } from '../lib/errors.ts';
import { backoffMs } from '../lib/time.ts';
import type { Clock } from '../lib/time.ts';
import type { Log } from '../output/log.ts';
import type { Redact } from '../output/redact.ts';
import type { ParkWatch } from './park-watch.ts';

/** Tries of one journal write before the job gives up parking. */
const JOURNAL_TRIES = 3;
/**
 * Most bytes a journaled step aims at as JSON: with the rest of the entry (its key of at most 1300
 * characters, the run id and the run's URL, under 4 KiB) MAX_BODY_BYTES, which every relay reads.
 * Outputs are never cut, so a step whose outputs take nearly their 64 KiB (MAX_OUTPUTS_BYTES) goes
 * past it: the relay's journal route reads more for that (MAX_JOURNAL_BODY_BYTES, 96 KiB).
 */
const STEP_BYTES = MAX_BODY_BYTES - 4096;

export interface JournalOptions {
  relay: RelayClient;
  runId: string;
  /** The attempt the entries belong to (a continuing job's is the parked one). */
  attempt: number;
  /** This GitHub run, recorded with each entry. */
  run: RunRef;
  clock: Clock;
  log: Log;
  redact: Redact;
  watch: ParkWatch;
  /** Whether to write: only when the job may park or continues a parked attempt (else no request at all). */
  writes: boolean;
  /** The parked attempt's entries, when continuing. */
  entries: readonly JournalEntry[];
  /**
   * The parked attempt's final target records, when continuing: a target a job without park-after
   * ended wrote no `#end` entry, yet it is final and must not run again.
   */
  records?: readonly TargetRecord[];
}

/** A run's journal: what a parked attempt did, and the writes of this job. */
export class Journal {
  private readonly entries = new Map<string, JournalEntry>();
  private readonly options: JournalOptions;

  constructor(options: JournalOptions) {
    this.options = options;
    for (const entry of options.entries) if (!this.entries.has(entry.key)) this.entries.set(entry.key, entry);
  }

  /** The step `<target>/<key>` ended in the parked attempt: its report, replayed; else null. */
  replayed(target: string, key: string): StepReport | null {
    const entry = this.entries.get(`${target}/${key}`);
    if (entry?.record.type !== 'step') return null;
    const { outputs, ...step } = entry.record.step;
    return { ...step, progress: [...step.progress], ...(outputs ? { outputs: { ...outputs } } : {}) };
  }

  /** Whether the webhook of `<target>/<key>` was called in the parked attempt (its callback is still awaited). */
  called(target: string, key: string): boolean {
    return this.entries.get(`${target}/${key}#called`)?.record.type === 'called';
  }

  /** A target that ended in the parked attempt: its report, outcome kept and steps replayed; else null. */
  kept(target: string): TargetReport | null {
    const end = this.entries.get(`${target}#end`);
    if (end?.record.type !== 'target') return this.keptByRecord(target);
    const steps = [...this.entries.values()]
      .filter((entry) => entry.key.startsWith(`${target}/`) && entry.record.type === 'step')
      .sort((a, b) => a.at - b.at)
      .flatMap((entry) => (entry.record.type === 'step' ? [entry.record.step] : []));
    const where = end.run.url || `#${end.run.id}`;
    return {
      target,
      outcome: end.record.outcome,
      message: `${end.record.message} (${end.record.outcome} in run ${where})`,
      steps,
      start: steps[0]?.start ?? null,
      end: steps.at(-1)?.end ?? null,
    };
  }

  /** A target the parked attempt ended without a journal (its job had no park-after): its final record, kept. */
  private keptByRecord(target: string): TargetReport | null {
    const record = this.options.records?.find((r) => r.target === target && r.attempt === this.options.attempt);
    if (!record || record.status === 'unknown' || record.status === 'running') return null;
    const message = `${record.message} (${record.status} in an earlier run of this deployment)`;
    return { target, outcome: record.status, message, steps: [], start: null, end: null };
  }

  /** Records a step that ended, before the next one starts; a parked step or one cut short by the abort is not over. */
  async step(target: string, key: string, step: StepReport, signal: AbortSignal): Promise<void> {
    if (step.state === 'parked' || (signal.aborted && step.state !== 'succeeded')) return;
    if (this.replayed(target, key)) return;
    await this.write(`${target}/${key}`, { type: 'step', step: this.cut(step) });
  }

  /** Records that the webhook of `<target>/<key>` answered 2xx: a resumed run never calls it again. */
  async markCalled(target: string, key: string): Promise<void> {
    await this.write(`${target}/${key}#called`, { type: 'called' });
  }

  /** Records a target's end: a resumed run keeps its outcome. */
  async end(target: string, outcome: FinalOutcome, message: string): Promise<void> {
    const text = truncateCodePoints(this.options.redact(message), MAX_JOURNAL_MESSAGE_CHARS);
    await this.write(`${target}#end`, { type: 'target', outcome, message: text });
  }

  /**
   * The step within the journal's limits, and redacted: its message and outputs may quote an external
   * system. Outputs are kept whole (a resumed run renders them); past the relay's body limit the
   * progress goes first, then the message.
   */
  private cut(step: StepReport): JournalStep {
    const { redact } = this.options;
    const cut: JournalStep = {
      kind: step.kind,
      name: truncateCodePoints(step.name, 200),
      phase: step.phase,
      state: step.state === 'parked' ? 'canceled' : step.state,
      message: step.message === null ? null : truncateCodePoints(redact(step.message), MAX_JOURNAL_MESSAGE_CHARS),
      progress: step.progress.slice(-MAX_JOURNAL_PROGRESS).map((p) => truncateCodePoints(redact(p), MAX_JOURNAL_PROGRESS_CHARS)),
      start: step.start.slice(0, 40),
      end: step.end.slice(0, 40),
    };
    if (step.outputs === undefined) return cut;
    cut.outputs = Object.fromEntries(Object.entries(step.outputs).map(([key, value]) => [key, typeof value === 'string' ? redact(value) : value]));
    if (bytes(cut) > STEP_BYTES) cut.progress = [];
    if (bytes(cut) > STEP_BYTES) cut.message = null;
    return cut;
  }

  /** Writes one entry, retrying what may pass; when it cannot, the job stops parking (it keeps waiting on its runner). */
  private async write(key: string, record: JournalRecord): Promise<void> {
    const { relay, runId, attempt, run, clock, log, watch } = this.options;
    if (!this.options.writes) return;
    let failure: unknown = null;
    for (let tries = 0; tries < JOURNAL_TRIES; tries++) {
      if (tries > 0) await clock.sleep(backoffMs(tries - 1));
      try {
        await relay.journal({ runId, attempt, key, record, run });
        return;
      } catch (error) {
        failure = error;
        if (error instanceof RelayError && !error.retryable) break;
      }
    }
    if (watch.enabled) {
      log.warning(
        `hookgate: could not record ${key} in the relay's journal (${errorMessage(failure)}): this job will not park ` +
          `(a resumed run could repeat the step) and keeps waiting on its runner`,
      );
    }
    watch.disable();
  }
}

function bytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}
