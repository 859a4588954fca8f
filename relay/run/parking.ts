/**
 * Parking and resuming (SPEC §9, shared/park.ts) inside the run object: the journal (first
 * record of a key stands), the parked jobs, and the resume dispatch a parked job becomes due
 * for once every gate and upstream target it waits for is final. Synchronous, over
 * relay/run/park-store.ts: the run object calls `checkDue` in the same synchronous stretch as
 * every change, so a due dispatch is stored before anything else runs (the alarm sends it,
 * relay/run/resume-sender.ts, even after a restart). A parked `<target>#beforeDeployment` job
 * whose target GitHub's deployment protection rule asked about is resumed by the rule
 * (relay/run/protection.ts), never by a dispatch: the rule's answer closes its park.
 */
import { MAX_JOURNAL_ENTRIES, MAX_PARKED_JOBS } from '../../shared/park.ts';
import type { JournalEntry, JournalRequest, ParkRequest, ParkResponse, ResumeRequest, ResumeTarget, RunRef, UnparkRequest } from '../../shared/park.ts';
import { appSetup } from '../github/app-config.ts';
import { dispatchRef } from '../github/dispatch.ts';
import type { RunEnv } from './env.ts';
import type { ParkRow } from './park-store.ts';
import { ParkStore } from './park-store.ts';
import { dispatchView, parkView, storedParkedBy } from './park-views.ts';
import type * as R from './results.ts';
import { targetRecord } from './rows.ts';

const ACTIVE = ['parked', 'claimed'];

export class Parking {
  private readonly store: ParkStore;
  private readonly env: RunEnv;
  /** Whether GitHub's deployment protection rule resumes the parked job (relay/run/protection.ts resumesJob). */
  private readonly ruleResumes: (job: string) => boolean;

  constructor(sql: SqlStorage, env: RunEnv, ruleResumes: (job: string) => boolean = () => false) {
    this.store = new ParkStore(sql);
    this.env = env;
    this.ruleResumes = ruleResumes;
  }

  /** Records a journal entry unless its (attempt, key) has one: the first record stands. */
  journal(request: JournalRequest, now: number): R.JournalResult {
    const highest = this.store.highestAttemptOfKey(request.key);
    if (request.attempt < highest) return outdated(request.attempt, highest, `journal key ${request.key}`);
    if (this.store.hasJournalEntry(request.attempt, request.key)) return { ok: true, recorded: false };
    // Counted in the same synchronous stretch as the insert: concurrent writes cannot overshoot.
    const count = this.store.journalCount();
    if (count >= MAX_JOURNAL_ENTRIES) return { ok: false, reason: 'too-many-entries', count };
    const { attempt, key, record, run } = request;
    this.store.insertJournal({ attempt, key, record: JSON.stringify(record), run: JSON.stringify(run), at: now });
    return { ok: true, recorded: true };
  }

  /** Stores (or replaces) a job's park and says how the deployment resumes. */
  park(request: ParkRequest, now: number): R.ParkResult {
    const existing = this.store.park(request.job);
    if (existing && existing.attempt > request.attempt) return outdated(request.attempt, existing.attempt, `job ${request.job}`);
    if (!existing) {
      const count = this.store.parkCount();
      if (count >= MAX_PARKED_JOBS) return { ok: false, reason: 'too-many-parks', count };
    }
    this.store.savePark({
      job: request.job,
      run_id: request.runId,
      attempt: request.attempt,
      state: 'parked',
      gate_ids: JSON.stringify([...new Set(request.gateIds)]),
      targets: JSON.stringify([...new Set(request.targets)]),
      ...request.resume,
      parked_by: JSON.stringify(request.initiator === undefined ? request.run : { ...request.run, initiator: request.initiator }),
      claimed_by: null,
      dispatch_id: null,
      parked_at: now,
      updated_at: now,
    });
    return { ok: true, park: { job: request.job, ...this.resumeMode(request.resume) } };
  }

  /**
   * Whether the job continues a parked attempt; if so its own park becomes claimed by this run.
   * A dispatched resume (`requested`) continues while any job's park is active; a re-run only when
   * its own is. A park claimed by another GitHub run stays with it (a later attempt of that same
   * run, after a crash, may take it over).
   */
  resume(request: ResumeRequest, now: number): R.ResumeResult {
    const active = this.store.parks().filter((row) => ACTIVE.includes(row.state));
    const first = active[0];
    if (!first) return nothingParked(request);
    const own = active.find((row) => row.job === request.job);
    const holder: RunRef | null = own?.state === 'claimed' && own.claimed_by ? JSON.parse(own.claimed_by) : null;
    if (holder && holder.id !== request.run.id) {
      return notContinuing(request, `job ${request.job} of this deployment is already being continued by run ${holder.url || holder.id}`, holder);
    }
    if (!request.requested && !own) return notContinuing(request, 're-run of a job that did not park: it starts afresh');
    const attempt = Math.max(...active.map((row) => row.attempt));
    if (own) this.store.setParkState(own.job, 'claimed', JSON.stringify(request.run), now);
    const { initiator, ...parkedBy } = storedParkedBy((active.find((row) => row.attempt === attempt) ?? first).parked_by);
    const journal = this.store.journal(attempt).map(
      (row): JournalEntry => ({ key: row.key, attempt: row.attempt, record: JSON.parse(row.record), run: JSON.parse(row.run), at: row.at }),
    );
    const targets = this.store.targets().map((row) => targetRecord(request.runId, row.target, row));
    return { ok: true, resume: { continuing: true, attempt, parkedBy, journal, targets, reason: null, initiator: initiator ?? null } };
  }

  /** Closes the job's park: it ended without parking again, so a later re-run does not continue it. */
  unpark(request: UnparkRequest, now: number): R.UnparkResult {
    const row = this.store.park(request.job);
    if (!row) return { ok: true, job: request.job, state: null };
    if (row.attempt > request.attempt) return outdated(request.attempt, row.attempt, `job ${request.job}`);
    if (row.state !== 'closed') this.store.setParkState(row.job, 'closed', null, now);
    return { ok: true, job: request.job, state: 'closed' };
  }

  /** The run view: every park, the latest dispatch and the target records. */
  view(runId: string): R.RunViewResult {
    const latest = this.store.latestDispatch();
    return {
      ok: true,
      view: {
        runId,
        parks: this.store.parks().map(parkView),
        dispatch: latest ? dispatchView(latest) : null,
        targets: this.store.targets().map((row) => targetRecord(runId, row.target, row)),
      },
    };
  }

  /**
   * Creates the dispatches parked jobs became due for: a parked job without one whose gates are
   * all final and whose upstream targets all have a final record in its attempt. One
   * workflow_dispatch runs the whole workflow, so it resumes every parked job of that resume
   * target: they all share the dispatch, including jobs still waiting on an upstream target the
   * resumed run is to finish (a second dispatch for them would start the workflow twice).
   */
  checkDue(now: number): void {
    const waiting = this.store.waitingParks().filter((row) => !this.ruleResumes(row.job));
    const created = new Map<string, number>();
    // Per attempt, read once per check: every callback runs this, and a run may hold many parks.
    const live = new Map<number, boolean>();
    for (const row of waiting) {
      if (this.store.pendingGates(row.gate_ids) > 0 || this.store.unfinishedTargets(row.targets, row.attempt) > 0) continue;
      if (!live.has(row.attempt)) live.set(row.attempt, this.liveJobElsewhere(row.attempt));
      if (live.get(row.attempt)) continue;
      const key = resumeKey(row);
      if (created.has(key)) continue;
      const target: ResumeTarget = { repository: row.repository, workflow: row.workflow, ref: row.ref };
      const mode = this.resumeMode(target);
      const id = (mode.resume === 'automatic' ? this.store.dueDispatchFor(target) : undefined) ?? this.newDispatch(row, mode, now);
      created.set(key, id);
    }
    for (const row of waiting) {
      const id = created.get(resumeKey(row));
      if (id !== undefined) this.store.linkPark(row.job, id, now);
    }
  }

  /**
   * Whether a job of the attempt that did not park is still running (its target's record is
   * `running` and no parked job covers it): the dispatched run would start that job a second time,
   * beside the one still at work, so the resume waits until it ends (its final record is a change too).
   */
  private liveJobElsewhere(attempt: number): boolean {
    const parked = this.store.parks().filter((row) => row.attempt === attempt && row.state === 'parked');
    if (parked.some((row) => row.job === '*')) return false;
    const covered = new Set(parked.map((row) => row.job.replace(/#(?:beforeDeployment|afterDeployment)$/, '')));
    return this.store.runningTargets(attempt).some((target) => !covered.has(target));
  }

  private newDispatch(row: ParkRow, mode: Omit<ParkResponse, 'job'>, now: number): number {
    const automatic = mode.resume === 'automatic';
    return this.store.insertDispatch({
      state: automatic ? 'due' : 'manual',
      repository: row.repository,
      workflow: row.workflow,
      ref: row.ref,
      deployment_id: row.run_id,
      tries: 0,
      error: mode.reason,
      resumed_run_id: null,
      resumed_run_url: null,
      next_at: automatic ? now : null,
      first_try_at: null,
      created_at: now,
      updated_at: now,
    });
  }

  /** GitHub's deployment protection rule answered for `target`: its parked `<target>#beforeDeployment` job was resumed by the rule. */
  ruleAnswered(target: string, now: number): void {
    const row = this.store.park(`${target}#beforeDeployment`);
    if (row?.state === 'parked') this.store.setParkState(row.job, 'closed', null, now);
  }

  /** `automatic` when the relay has a GitHub App and the ref is a branch or tag; else `manual` and why. */
  private resumeMode(target: ResumeTarget): Omit<ParkResponse, 'job'> {
    if (dispatchRef(target.ref) === null) {
      return { resume: 'manual', reason: `ref ${target.ref} is neither a branch nor a tag, so it cannot be dispatched: resume by hand` };
    }
    const setup = appSetup(this.env);
    return setup.app ? { resume: 'automatic', reason: null } : { resume: 'manual', reason: setup.message };
  }

  /** What the approval page says about the run's resume; null when no job of the run ever parked. */
  pageNote(): R.ResumeNote | null {
    const parks = this.store.parks();
    const first = parks[0];
    if (!first) return null;
    const latest = this.store.latestDispatch();
    return { dispatch: latest ? dispatchView(latest) : null, parked: parks.some((row) => row.state === 'parked'), deploymentId: first.run_id };
  }

  /** When the alarm must send the next due dispatch; null for none. */
  nextSend(): number | null {
    return this.store.nextDispatchAt();
  }

  /** True while a parked job waits for its dispatch, or a dispatch is due: the run must not be deleted (ParkStore.holdsRun). */
  holdsRun(): boolean {
    return this.store.holdsRun();
  }

  lastActivity(): number | null {
    return this.store.lastActivity();
  }

  /** The store, for the alarm's sender (relay/run/resume-sender.ts). */
  get parkStore(): ParkStore {
    return this.store;
  }
}

/** The answer to a job that does not continue: it runs the attempt it asked for, as it always did. */
/** The answer to a resume when no job of the run is parked (or the run stored nothing at all). */
export function nothingParked(request: ResumeRequest): R.ResumeResult {
  const reason = request.requested
    ? `deployment ${request.runId} has no parked job to continue: it finished, or it was never parked`
    : 'no job of this deployment is parked';
  return notContinuing(request, reason);
}

/** The view of a run that stored nothing. */
export function emptyView(runId: string): R.RunViewResult {
  return { ok: true, view: { runId, parks: [], dispatch: null, targets: [] } };
}

function notContinuing(request: ResumeRequest, reason: string, heldBy?: RunRef): R.ResumeResult {
  const resume = { continuing: false, attempt: request.attempt, parkedBy: null, journal: [], targets: [], reason };
  return { ok: true, resume: heldBy ? { ...resume, heldBy } : resume };
}

function outdated(attempt: number, highest: number, what: string): R.Refusal {
  return { ok: false, reason: 'superseded', message: `attempt ${attempt} is out of date: attempt ${highest} of ${what} superseded it` };
}

/** The parks one workflow_dispatch resumes: same repository, workflow file and ref. */
function resumeKey(row: ParkRow): string {
  return JSON.stringify([row.repository, row.workflow, row.ref]);
}
