/**
 * The resume itself: a `workflow_dispatch` of the parked workflow on its ref with input
 * `hookgate-resume` = the deployment id, asking GitHub for the new run's details
 * (`return_run_details`); a GitHub that does not know that parameter (older GitHub
 * Enterprise Server) is asked again without it.
 */
import { RESUME_INPUT } from '../../shared/park.ts';
import type { ResumeTarget } from '../../shared/park.ts';
import { truncateCodePoints } from '../../shared/text.ts';
import type { GitHubApp } from './app-config.ts';
import { appApi, forgetInstallation, installationToken } from './app.ts';

/** How long a dispatch request may take: GitHub's API times out its own requests at 10 s. */
export const SEND_TIMEOUT_MS = 10_000;
/** Longest refusal message kept (GitHub's messages are a line). */
const MAX_MESSAGE_CHARS = 1000;

/**
 * GitHub's answer: accepted (with the new run when GitHub returned it), or not, with the message.
 * `settled`: GitHub surely started no run (a 4xx refusal, or nothing was sent); false when the
 * dispatch may have been accepted all the same (a 5xx, a connection lost before the answer).
 */
export type DispatchAnswer =
  | { ok: true; runId: string | null; runUrl: string | null }
  | { ok: false; message: string; settled: boolean };

/** `refs/heads/x` → `x`, `refs/tags/v1` → `v1`; null for any other ref (a pull request's merge ref cannot be dispatched). */
export function dispatchRef(ref: string): string | null {
  const name = /^refs\/(?:heads|tags)\/(.+)$/.exec(ref)?.[1];
  return name === undefined ? null : name;
}

/** The workflow's file name, as the dispatch route takes it (`.github/workflows/deploy.yml` → `deploy.yml`). */
export function workflowFile(workflow: string): string {
  return workflow.slice(workflow.lastIndexOf('/') + 1);
}

/** Dispatches the resume of `deploymentId` to `target`; never throws. */
export async function dispatchResume(app: GitHubApp, target: ResumeTarget, deploymentId: string): Promise<DispatchAnswer> {
  const ref = dispatchRef(target.ref);
  if (ref === null) return { ok: false, message: `ref ${target.ref} is neither a branch nor a tag: it cannot be dispatched`, settled: true };
  let sent = false;
  try {
    const token = await installationToken(app, target.repository);
    sent = true;
    try {
      return await send(app, target, ref, deploymentId, token, true);
    } catch (error) {
      if (!namesRunDetails(error)) throw error;
      return await send(app, target, ref, deploymentId, token, false);
    }
  } catch (error) {
    forgetInstallation(app, target.repository);
    return { ok: false, message: refusalMessage(error), settled: !sent || (isRefusal(error) && error.status < 500) };
  }
}

async function send(
  app: GitHubApp,
  target: ResumeTarget,
  ref: string,
  deploymentId: string,
  token: string,
  runDetails: boolean,
): Promise<DispatchAnswer> {
  const [owner = '', repo = ''] = target.repository.split('/');
  // Bounds when GitHub can have started the run of a send in doubt (relay/github/resumed-run.ts). Not
  // AbortSignal.timeout: its timer would outlive the answer and keep the object from being evicted.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no answer within ${SEND_TIMEOUT_MS / 1000} s`)), SEND_TIMEOUT_MS);
  const response = await appApi(app)('POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', {
    owner,
    repo,
    workflow_id: workflowFile(target.workflow),
    ref,
    inputs: { [RESUME_INPUT]: deploymentId },
    ...(runDetails ? { return_run_details: true } : {}),
    headers: { authorization: `token ${token}` },
    request: { signal: abort.signal },
  }).finally(() => clearTimeout(timer));
  const data: unknown = response.data;
  if (Number(response.status) !== 200 || typeof data !== 'object' || data === null) return { ok: true, runId: null, runUrl: null };
  const details = data as { workflow_run_id?: unknown; html_url?: unknown };
  const runId = typeof details.workflow_run_id === 'number' || typeof details.workflow_run_id === 'string' ? String(details.workflow_run_id) : null;
  const runUrl = typeof details.html_url === 'string' ? truncateCodePoints(details.html_url, MAX_MESSAGE_CHARS, '') : null;
  return { ok: true, runId, runUrl };
}

/** What @octokit/request throws for a refusal (its RequestError, not a dependency of ours): the status and GitHub's answer. */
type Refusal = { status: number; message: string; response?: { data?: unknown } };

export function isRefusal(error: unknown): error is Refusal {
  return error instanceof Error && typeof (error as { status?: unknown }).status === 'number';
}

/** A 400 or 422 whose message names return_run_details: a GitHub that does not know the parameter. */
function namesRunDetails(error: unknown): boolean {
  return isRefusal(error) && (error.status === 400 || error.status === 422) && /return_run_details/.test(githubMessage(error));
}

/** GitHub's own message of a refusal (its JSON `message`), else the error's. */
function githubMessage(error: Refusal): string {
  const data: unknown = error.response?.data;
  if (typeof data === 'object' && data !== null && typeof (data as { message?: unknown }).message === 'string') {
    return (data as { message: string }).message;
  }
  return error.message;
}

/** What failed, in GitHub's words, bounded; tokens are never part of it (RequestError redacts them). */
export function refusalMessage(error: unknown): string {
  const text =
    isRefusal(error)
      ? `GitHub answered ${error.status}: ${githubMessage(error)}`
      : `GitHub could not be reached: ${error instanceof Error ? error.message : String(error)}`;
  return truncateCodePoints(text, MAX_MESSAGE_CHARS, '…');
}
