/**
 * One GitHub deployment per target (SPEC §5, `github-token`): created when the
 * target starts, `in_progress`, then a final status from its outcome, each
 * linking to the run. GitHub is a mirror here, never a gate: every failure is a
 * warning and the deployment goes on.
 */
import type { GitHubApiOptions } from './github-api.ts';
import { openGitHubApi } from './github-api.ts';
import type { Log } from '../output/log.ts';
import type { FinalOutcome } from '../engine/report.ts';
import { truncateCodePoints } from '../../shared/text.ts';
import { runAttempt } from '../settings.ts';
import type { GitHubContext } from '../settings.ts';

export type { GitHubApiOptions } from './github-api.ts';

export interface GitHubDeployments {
  /** Creates the target's GitHub deployment and sets it `in_progress`; never rejects. */
  start(target: string, description: string): Promise<void>;
  /** Sets the final status of the target's deployment; never rejects. */
  finish(target: string, outcome: FinalOutcome, message: string, detail?: FinishDetail): Promise<void>;
}

export interface FinishDetail {
  /** The target failed and so did its rollback: what runs in the environment is unknown. */
  rollbackFailed?: boolean;
}

export interface GitHubDeploymentsOptions extends GitHubApiOptions {
  /**
   * Gate mode: the beforeDeployment step creates the deployment and the
   * afterDeployment step (another process) finishes it, so `finish` without a
   * `start` looks it up instead of doing nothing.
   */
  gateMode?: boolean;
  /**
   * Targets a parked attempt started, which this job continues (SPEC §9): their deployment
   * exists, so `start` creates none and `finish` looks it up.
   */
  continued?: ReadonlySet<string>;
}

type FinalState = 'success' | 'failure' | 'error' | 'inactive';

/** GitHub's limit on a deployment status description. */
const DESCRIPTION_LIMIT = 140;

/** The final status for a target's outcome, with a description within GitHub's limit. */
function finalStatus(outcome: FinalOutcome, message: string, detail: FinishDetail = {}): { state: FinalState; description: string } {
  const say = (state: FinalState, prefix: string, already: RegExp): { state: FinalState; description: string } => ({
    state,
    description: truncate(already.test(message) ? message : `${prefix}${message}`),
  });
  switch (outcome) {
    case 'succeeded':
      return say('success', '', /^/);
    case 'rolled-back':
      return say('failure', 'Rolled back: ', /rolled back/i);
    case 'failed':
      // The rollback failed too: neither the old nor the new version is known to run.
      return detail.rollbackFailed ? say('error', 'Rollback failed, state unknown: ', /rollback/i) : say('failure', '', /^/);
    case 'canceled':
      return say('inactive', '', /^/);
  }
}

/** At most `limit` characters (code points, as GitHub counts), cut with an ellipsis. */
function truncate(text: string, limit = DESCRIPTION_LIMIT): string {
  const folded = text.replace(/\s+/g, ' ').trim();
  const cut = truncateCodePoints(folded, limit, '…');
  // No space before the ellipsis: the cut may fall after a word.
  return cut === folded ? cut : `${cut.slice(0, -1).trimEnd()}…`;
}

/** The options for this run's deployments: the repository, commit and attempt the runner describes. */
export function deploymentOptions(github: GitHubContext, token: string, deploymentId: string, log: Log, attempt = runAttempt(github)): GitHubApiOptions {
  return {
    token,
    repository: github.repository,
    sha: github.sha,
    ref: github.ref,
    // This attempt's page: a re-run's log is another one.
    runUrl: github.attemptUrl,
    deploymentId,
    // A continuing job's is the parked attempt: its deployments carry that one.
    attempt,
    log,
  };
}

/** No `github-token`: no GitHub deployments, no calls. */
function noGitHubDeployments(): GitHubDeployments {
  return { start: () => Promise.resolve(), finish: () => Promise.resolve() };
}

/** GitHub deployments for this run's targets; without a token, none. */
export function createGitHubDeployments(options: GitHubDeploymentsOptions): GitHubDeployments {
  if (!options.token) return noGitHubDeployments();
  const api = openGitHubApi(options);
  /** By target: the id of the deployment `start` created, or null when it could not. */
  const started = new Map<string, Promise<number | null>>();

  return {
    async start(target, description) {
      if (options.continued?.has(target)) return;
      const text = truncate(description);
      const id = (async () => {
        const created = await api.create(target, text);
        if (created !== null) await api.setStatus(created, target, 'in_progress', text);
        return created;
      })();
      started.set(target, id);
      await id;
    },

    async finish(target, outcome, message, detail) {
      try {
        const { state, description } = finalStatus(outcome, message, detail);
        // The runner kills a canceled step about 10 s after SIGINT: these calls must end well before.
        const bound = outcome === 'canceled' ? CANCEL_TIMEOUT_MS : undefined;
        const local = started.get(target);
        // A target canceled before it started has no deployment (in gate mode it may: the other step's).
        if (!local && !options.gateMode && !options.continued?.has(target)) return;
        let id = (await local) ?? null;
        // Gate mode, or start's create failed: the deployment may exist all the same.
        // A continued target's deployment was made by the parked run, maybe at another commit (the branch moved since).
        id ??= (await api.find(target, bound, options.continued?.has(target) ?? false))[0]?.id ?? null;
        if (id === null && outcome !== 'canceled') id = await api.create(target, description);
        if (id === null) return;
        await api.setStatus(id, target, state, description, bound);
      } catch (error) {
        api.unexpected(target, error);
      }
    },
  };
}

/**
 * The post step after a killed main step: every deployment of this hookgate run
 * and attempt (and target, when given) whose latest status is still active is set
 * `inactive`. Resolves with how many; never rejects.
 */
export async function markAbandoned(options: GitHubApiOptions & { target?: string; reason: string }): Promise<number> {
  if (!options.token) return 0;
  const api = openGitHubApi(options);
  const target = options.target ?? null;
  try {
    const found = await api.find(target);
    const marked = await Promise.all(
      found.map(async (deployment) => {
        const latest = await api.latestState(deployment.id, deployment.target);
        if (latest === undefined || !ACTIVE.has(latest)) return false;
        return api.setStatus(deployment.id, deployment.target, 'inactive', truncate(options.reason));
      }),
    );
    return marked.filter(Boolean).length;
  } catch (error) {
    api.unexpected(target, error);
    return 0;
  }
}

/** States of a deployment that is still going on; `null` is one with no status yet (GitHub shows it pending). */
const ACTIVE = new Set<string | null>(['in_progress', 'queued', 'pending', null]);
const CANCEL_TIMEOUT_MS = 3_000;
