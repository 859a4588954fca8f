/**
 * GitHub's custom deployment protection rule, the relay's side of the wire: which callback URLs
 * the relay answers (only GitHub's own, for the repository that asked), and the answer itself,
 * `POST …/actions/runs/{run_id}/deployment_protection_rule` with the App's installation token.
 */
import { truncateCodePoints } from '../../shared/text.ts';
import type { GitHubApp } from './app-config.ts';
import { appApi, forgetInstallation, installationToken } from './app.ts';

/** GitHub's limit on the answer's comment is 1,024 characters; the relay stays under it. */
export const MAX_PROTECTION_COMMENT_CHARS = 1000;
/** Longest refusal message kept (GitHub's messages are a line). */
const MAX_ERROR_CHARS = 1000;

/** A workflow run whose protection rule GitHub asks about: the repository as the URL names it, and the run id. */
export type CallbackRun = { owner: string; repo: string; runId: string };

/** What the relay tells GitHub about one environment of the run. */
export type ProtectionAnswer = { environment: string; state: 'approved' | 'rejected'; comment: string };

/** The result of sending it: accepted, or GitHub's refusal (or the network's) in words. */
export type AnswerResult = { ok: true } | { ok: false; message: string };

/**
 * The run a `deployment_callback_url` names, or why the relay will not answer it: it must be
 * `{GITHUB_API_URL}/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule` for
 * the repository of the delivery (names compared without case, as GitHub does). Anything else
 * would make the relay send its installation token to a host or repository a payload chose.
 */
export function callbackRun(callbackUrl: string, apiUrl: string, repository: string): CallbackRun | { problem: string } {
  const url = URL.parse(callbackUrl);
  const api = URL.parse(apiUrl);
  if (!url || !api) return { problem: 'deployment_callback_url: is not a URL' };
  if (url.origin !== api.origin) return { problem: `deployment_callback_url: is not on GitHub's API origin ${api.origin} (GITHUB_API_URL)` };
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    return { problem: 'deployment_callback_url: carries a query, fragment or credentials' };
  }
  const base = api.pathname.replace(/\/+$/, '');
  const path = url.pathname.startsWith(`${base}/`) ? url.pathname.slice(base.length) : null;
  const match = path === null ? null : /^\/repos\/([A-Za-z0-9._-]+)\/([A-Za-z0-9._-]+)\/actions\/runs\/(\d{1,20})\/deployment_protection_rule$/.exec(path);
  if (!match) return { problem: `deployment_callback_url: is not ${apiUrl}/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule` };
  const [, owner = '', repo = '', runId = ''] = match;
  if (`${owner}/${repo}`.toLowerCase() !== repository.toLowerCase()) {
    return { problem: `deployment_callback_url: names repository ${owner}/${repo}, not ${repository} that the delivery is for` };
  }
  return { owner, repo, runId };
}

/** Sends `answer` for `run` of `repository` with the App's installation token; never throws, never echoes the token. */
export async function sendProtectionAnswer(app: GitHubApp, repository: string, run: CallbackRun, answer: ProtectionAnswer): Promise<AnswerResult> {
  try {
    const token = await installationToken(app, repository);
    await appApi(app)('POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule', {
      owner: run.owner,
      repo: run.repo,
      run_id: Number(run.runId),
      environment_name: answer.environment,
      state: answer.state,
      comment: truncateCodePoints(answer.comment, MAX_PROTECTION_COMMENT_CHARS, '…'),
      headers: { authorization: `token ${token}` },
    });
    return { ok: true };
  } catch (error) {
    // A refusal may mean the App was reinstalled elsewhere: look the installation up again next time.
    forgetInstallation(app, repository);
    return { ok: false, message: refusalMessage(error) };
  }
}

/** GitHub's own message of a refusal (its JSON `message`) with the status, else the error's; bounded. */
function refusalMessage(error: unknown): string {
  const status = error instanceof Error ? (error as { status?: unknown }).status : undefined;
  if (typeof status !== 'number') {
    return truncateCodePoints(`GitHub could not be reached: ${error instanceof Error ? error.message : String(error)}`, MAX_ERROR_CHARS, '…');
  }
  const data: unknown = (error as { response?: { data?: unknown } }).response?.data;
  const message =
    typeof data === 'object' && data !== null && typeof (data as { message?: unknown }).message === 'string'
      ? (data as { message: string }).message
      : (error as Error).message;
  return truncateCodePoints(`GitHub answered ${status}: ${message}`, MAX_ERROR_CHARS, '…');
}
