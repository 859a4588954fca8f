/**
 * Whether a resume dispatch whose answer was lost (the relay stopped, or the connection broke,
 * after it was sent) started a run all the same: GitHub's list of the workflow's runs
 * (`actions: read`), `workflow_dispatch` runs on the ref triggered by the App's own bot and created
 * while that send could reach GitHub: from the send to its timeout (dispatch.ts SEND_TIMEOUT_MS),
 * CLOCK_SKEW_MS wider on each side. One dispatch per repository, workflow and ref resumes every
 * parked job of the run (relay/run/parking.ts), so such a run is the resume; a second dispatch would
 * start a run that fails (its parks are claimed). Another deployment's resume of the same workflow on
 * the same ref is told apart only by that window (a run's inputs are not listed): one sent within
 * those seconds is taken for this one, which then is not sent (README: resume by hand).
 */
import type { ResumeTarget } from '../../shared/park.ts';
import { truncateCodePoints } from '../../shared/text.ts';
import type { GitHubApp } from './app-config.ts';
import { appApi, appSlug, forgetInstallation, installationToken } from './app.ts';
import { dispatchRef, refusalMessage, SEND_TIMEOUT_MS, workflowFile } from './dispatch.ts';

/** How far GitHub's clock may be from the relay's (both keep NTP time; whole seconds in GitHub's answers). */
export const CLOCK_SKEW_MS = 1_000;
/** Runs read: the filters leave few (one per lost dispatch); the newest come first. */
const PER_PAGE = 100;
const MAX_URL_CHARS = 1000;

/** The run the lost dispatch started, none, or the check failed (GitHub's message). */
export type ResumedRunAnswer =
  | { kind: 'found'; runId: string; runUrl: string | null }
  | { kind: 'none' }
  | { kind: 'failed'; message: string };

type ListedRun = {
  id?: unknown;
  html_url?: unknown;
  path?: unknown;
  head_branch?: unknown;
  event?: unknown;
  created_at?: unknown;
  triggering_actor?: { login?: unknown } | null;
};

/** The run a dispatch of `target` sent at `sentAt` (ms) started, if GitHub lists one; never throws. */
export async function findResumedRun(app: GitHubApp, target: ResumeTarget, sentAt: number): Promise<ResumedRunAnswer> {
  const ref = dispatchRef(target.ref);
  // Such a ref is never dispatched: nothing can have been started.
  if (ref === null) return { kind: 'none' };
  // GitHub's times are whole seconds: the window is widened to them.
  const span = { from: Math.floor((sentAt - CLOCK_SKEW_MS) / 1000) * 1000, to: Math.ceil((sentAt + SEND_TIMEOUT_MS + CLOCK_SKEW_MS) / 1000) * 1000 };
  try {
    const bot = `${await appSlug(app)}[bot]`;
    const token = await installationToken(app, target.repository);
    const [owner = '', repo = ''] = target.repository.split('/');
    const { data } = await appApi(app)('GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', {
      owner,
      repo,
      workflow_id: workflowFile(target.workflow),
      event: 'workflow_dispatch',
      branch: ref,
      // GitHub's search syntax for a range.
      created: `${githubTime(span.from)}..${githubTime(span.to)}`,
      per_page: PER_PAGE,
      headers: { authorization: `token ${token}` },
    });
    const runs = (data as { workflow_runs?: unknown }).workflow_runs;
    if (!Array.isArray(runs)) return { kind: 'failed', message: 'GitHub answered the list of workflow runs without workflow_runs' };
    const ours = (runs as ListedRun[]).find((run) => isResume(run, target, ref, bot, span));
    if (!ours) return { kind: 'none' };
    const runUrl = typeof ours.html_url === 'string' ? truncateCodePoints(ours.html_url, MAX_URL_CHARS, '') : null;
    return { kind: 'found', runId: String(ours.id as number | string), runUrl };
  } catch (error) {
    forgetInstallation(app, target.repository);
    return { kind: 'failed', message: `could not ask GitHub whether the resume started a run: ${refusalMessage(error)}` };
  }
}

/**
 * The filters again on our side (a GitHub that ignored one must not make another run ours): the
 * workflow's path (`path@ref` for some runs), the ref, the event, the time and the App's bot.
 */
function isResume(run: ListedRun, target: ResumeTarget, ref: string, bot: string, span: { from: number; to: number }): boolean {
  const path = typeof run.path === 'string' ? run.path.replace(/@.*$/, '') : '';
  const created = typeof run.created_at === 'string' ? Date.parse(run.created_at) : Number.NaN;
  return (
    (typeof run.id === 'number' || typeof run.id === 'string') &&
    path === target.workflow &&
    run.head_branch === ref &&
    run.event === 'workflow_dispatch' &&
    created >= span.from &&
    created <= span.to &&
    typeof run.triggering_actor?.login === 'string' &&
    run.triggering_actor.login.toLowerCase() === bot.toLowerCase()
  );
}

function githubTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
