/**
 * A job's part in parking and resuming (SPEC §9): at start, whether it continues a parked
 * attempt (its journal, its attempt); at the end, its park, or the close of the park it continued.
 */
import { MAX_GATES_PER_RUN, MAX_TARGETS_PER_RUN } from '../../shared/protocol.ts';
import { ResumeTarget } from '../../shared/park.ts';
import type { ParkResponse, ResumeResponse, RunRef } from '../../shared/park.ts';
import { truncateCodePoints } from '../../shared/text.ts';
import { RelayError } from '../clients/relay.ts';
import type { RelayClient } from '../clients/relay.ts';
import { errorMessage } from '../lib/errors.ts';
import { backoffMs } from '../lib/time.ts';
import type { Clock } from '../lib/time.ts';
import type { Log } from '../output/log.ts';
import type { Redact } from '../output/redact.ts';
import { runAttempt, runRef } from '../settings.ts';
import type { GitHubContext, Settings } from '../settings.ts';
import { Journal } from './journal.ts';
import { ParkWatch } from './park-watch.ts';
import type { Waits } from './park-watch.ts';

/** Tries of a park, resume or unpark request before the job gives up. */
const SESSION_TRIES = 4;

/** A job that parked: what it waits for and how the deployment resumes, for the summary. */
export interface ParkedJob {
  deploymentId: string;
  waits: Waits;
  answer: ParkResponse;
  resume: ResumeTarget;
}

/** The job's session: the attempt it runs, its park watch and journal. */
export interface Session {
  attempt: number;
  /** Continuing a parked attempt. */
  continuing: boolean;
  /** Whether the parked attempt started the target: its GitHub deployment exists. */
  startedBefore(target: string): boolean;
  watch: ParkWatch;
  journal: Journal;
  /**
   * The login that started the deployment's attempt: a continuing job takes the parked run's (its own
   * run was started by the relay's App or by whoever resumed it), so preventSelfReview still means that person.
   */
  initiator: string;
  /** Parks the job after its targets parked; rejects when the relay cannot store the park. */
  park(): Promise<ParkedJob>;
  /** The job ended without parking: closes the park it continued (a warning when that fails). */
  end(): Promise<void>;
}

export interface SessionDeps {
  relay: RelayClient;
  settings: Settings;
  log: Log;
  redact: Redact;
  clock: Clock;
}

/** The job's key at the relay: `*` or its target, with `#<phase>` in gate mode. */
export function jobKey(settings: Pick<Settings, 'target' | 'phase'>): string {
  const job = settings.target ?? '*';
  return settings.phase ? `${job}#${settings.phase}` : job;
}

/** Where the relay dispatches the resume: the repository, the workflow file of GITHUB_WORKFLOW_REF, the ref. */
export function resumeTarget(github: GitHubContext): ResumeTarget {
  const path = github.workflowRef.split('@')[0] ?? '';
  const prefix = `${github.repository}/`;
  const workflow = path.startsWith(prefix) ? path.slice(prefix.length) : path;
  const parsed = ResumeTarget.safeParse({ repository: github.repository, workflow, ref: github.ref });
  if (!parsed.success) {
    throw new Error(`cannot park: the workflow to resume is unknown (GITHUB_WORKFLOW_REF '${github.workflowRef.slice(0, 300)}', GITHUB_REF '${github.ref.slice(0, 300)}')`);
  }
  return parsed.data;
}

/** Starts the job's session: asks the relay whether it continues a parked attempt, when that may be. */
export async function startSession(deps: SessionDeps): Promise<Session> {
  const { relay, settings, log, clock } = deps;
  const run = runRef(settings.github);
  const job = jobKey(settings);
  const asked = runAttempt(settings.github);
  // Without park-after, a resume or a re-run nothing can be parked: no request at all, as before.
  const check = settings.parkAfterMs !== null || settings.resumeRequested || asked > 1;
  const answer = check ? await askResume(deps, job, asked, run) : null;
  // Another run continues this job now: running it here as well would repeat what that run is doing.
  if (answer?.heldBy) throw new Error(`deployment ${settings.deploymentId}: ${answer.reason ?? 'another run continues this job'}; wait for that run, or cancel it and run again`);
  // A re-run of a resumed run that failed still carries hookgate-resume: with nothing left to
  // continue it runs its own attempt, as any re-run after a failure does.
  if (answer && !answer.continuing && settings.resumeRequested && asked === 1) {
    throw new Error(`input hookgate-resume: deployment ${settings.deploymentId} has nothing to continue: ${answer.reason ?? 'the relay has no parked job of it'}`);
  }
  const continuing = answer?.continuing ?? false;
  const attempt = continuing && answer ? answer.attempt : asked;
  if (continuing && answer) log.info(`hookgate: continuing attempt ${attempt} of deployment ${settings.deploymentId}, parked by run ${answer.parkedBy?.url || answer.parkedBy?.id || 'unknown'}`);
  const watch = new ParkWatch(settings.parkAfterMs, clock);
  const entries = continuing && answer ? answer.journal.filter((e) => e.attempt === attempt) : [];
  const records = continuing && answer ? answer.targets : [];
  const journal = new Journal({ ...deps, runId: settings.deploymentId, attempt, run, watch, writes: settings.parkAfterMs !== null || continuing, entries, records });
  const initiator = (continuing && answer?.initiator) || settings.github.initiator;
  return {
    attempt,
    continuing,
    initiator,
    startedBefore: (target) => continuing && answer !== null && startedIn(answer, attempt, target),
    watch,
    journal,
    park: () => parkJob(deps, job, attempt, run, watch, initiator),
    async end() {
      if (!continuing) return;
      try {
        await retried(clock, () => relay.unpark({ runId: settings.deploymentId, job, attempt }));
      } catch (error) {
        log.warning(`hookgate: could not close this job's park at the relay (a re-run may continue it): ${errorMessage(error)}`);
      }
    },
  };
}

async function askResume(deps: SessionDeps, job: string, attempt: number, run: RunRef): Promise<ResumeResponse> {
  const { relay, settings, clock } = deps;
  try {
    return await retried(clock, () => relay.resume({ runId: settings.deploymentId, job, attempt, requested: settings.resumeRequested, run }));
  } catch (error) {
    if (error instanceof RelayError && error.status === 404) {
      // A plain re-run on a relay from before parking: nothing can be parked there, so nothing continues.
      if (settings.parkAfterMs === null && !settings.resumeRequested) return { continuing: false, attempt, parkedBy: null, journal: [], targets: [], reason: null };
      throw new Error(`the relay does not know parking and resuming (${error.message}): update the relay, or leave input park-after empty`, { cause: error });
    }
    throw error;
  }
}

async function parkJob(deps: SessionDeps, job: string, attempt: number, run: RunRef, watch: ParkWatch, initiator: string): Promise<ParkedJob> {
  const { relay, settings, clock } = deps;
  const waits = watch.parked ?? { gates: [], targets: [] };
  const resume = resumeTarget(settings.github);
  const answer = await retried(clock, () =>
    relay.park({
      runId: settings.deploymentId,
      job,
      attempt,
      gateIds: waits.gates.map((g) => g.gateId).slice(0, MAX_GATES_PER_RUN),
      targets: waits.targets.slice(0, MAX_TARGETS_PER_RUN),
      resume,
      run,
      ...(initiator === '' ? {} : { initiator: truncateCodePoints(initiator, 100) }),
    }),
  );
  return { deploymentId: settings.deploymentId, waits, answer, resume };
}

/** Whether the parked attempt started the target: a record of that attempt, or a journal entry. */
function startedIn(answer: ResumeResponse, attempt: number, target: string): boolean {
  return (
    answer.targets.some((t) => t.target === target && t.attempt === attempt && t.status !== 'unknown') ||
    answer.journal.some((e) => e.attempt === attempt && (e.key.startsWith(`${target}/`) || e.key === `${target}#end`))
  );
}

/** The request, tried again through network errors and retryable answers. */
async function retried<T>(clock: Clock, request: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await request();
    } catch (error) {
      if (tries >= SESSION_TRIES || !(error instanceof RelayError && error.retryable)) throw error;
      await clock.sleep(backoffMs(tries - 1));
    }
  }
}
