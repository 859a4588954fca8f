/**
 * The four deployment endpoints of GitHub's REST API hookgate uses, through
 * @actions/github's Octokit. Never rejects: a failure is one warning, and a token
 * GitHub refuses turns every later call into a no-op.
 */
import type * as GitHub from '@actions/github';
import { errorMessage } from '../lib/errors.ts';
import type { Log } from '../output/log.ts';
import { createRedactor } from '../output/redact.ts';
import { truncateCodePoints } from '../../shared/text.ts';
import { formatDuration } from '../lib/time.ts';

export interface GitHubApiOptions {
  /** `github-token`; never logged. */
  token: string;
  /** `owner/name`. */
  repository: string;
  /** The commit deployed; the deployment's `ref` (falls back to `ref`). */
  sha: string;
  ref: string;
  /** Every status's `log_url`. */
  runUrl: string;
  /** hookgate's deployment id and the run attempt: stored in the payload to find the deployment again. */
  deploymentId: string;
  attempt: number;
  log: Log;
  /** Default: `GITHUB_API_URL` (GitHub Enterprise Server sets it), else https://api.github.com. */
  apiUrl?: string;
  /** Bound on each call. */
  timeoutMs?: number;
}

export type DeploymentState = 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';

export interface FoundDeployment {
  id: number;
  target: string;
}

export interface DeploymentsApi {
  /** The new deployment's id, or null. */
  create(target: string, description: string): Promise<number | null>;
  /** Whether GitHub stored the status. (Every `timeoutMs` here can only shorten the calls' bound.) */
  setStatus(id: number, target: string, state: DeploymentState, description: string, timeoutMs?: number): Promise<boolean>;
  /** This run attempt's deployments (of `target`, or of every target), newest first. */
  /** `anyCommit`: not only the run's commit (a continued target's deployment may be at an earlier one). */
  find(target: string | null, timeoutMs?: number, anyCommit?: boolean): Promise<FoundDeployment[]>;
  /** The deployment's latest state, null when it has none yet, undefined when it could not be read. */
  latestState(id: number, target: string): Promise<string | null | undefined>;
  /** Reports an error no call should throw, as a warning. */
  unexpected(target: string | null, error: unknown): void;
}

const PERMISSION_WARNING =
  'github-token cannot create deployments (the workflow needs `permissions: deployments: write`); continuing without GitHub deployments';

type Octokit = ReturnType<typeof GitHub.getOctokit>;
type Request = { signal: AbortSignal };

const TASK = 'deploy';
const DEFAULT_TIMEOUT_MS = 10_000;
// Pinned, so GitHub answers in the shape the code reads even after it releases a new version.
const HEADERS = { 'x-github-api-version': '2022-11-28' };

// Octokit and its undici are loaded on first use: a run without github-token never parses them.
let loading: Promise<typeof GitHub> | undefined;
const loadGitHub = (): Promise<typeof GitHub> => (loading ??= import('@actions/github'));

/** The deployment endpoints for one repository and run attempt. */
export function openGitHubApi(options: GitHubApiOptions): DeploymentsApi {
  const { call, scrub } = openCaller(options);
  const [owner = '', repo = ''] = options.repository.split('/');
  const where: Where = { owner, repo, options };
  return {
    create: (target, description) => createDeployment(call, where, target, description),
    setStatus: (id, target, state, description, ms) => setStatus(call, where, id, target, state, description, ms),
    find: (target, ms, anyCommit) => findDeployments(call, where, target, ms, anyCommit),
    latestState: (id, target) => latestState(call, where, id, target),
    unexpected(target, error) {
      options.log.warning(scrub(`${prefix(target)} GitHub deployment: unexpected error (${errorMessage(error)}); the deployment goes on`));
    },
  };
}

/** One call to GitHub: its data, or undefined after at most one warning; `timeoutMs` can only shorten the bound. */
type Call = <T>(target: string | null, what: string, request: (o: Octokit, r: Request) => Promise<{ data: T }>, timeoutMs?: number) => Promise<T | undefined>;

/** The repository the endpoints act on. */
interface Where {
  owner: string;
  repo: string;
  options: GitHubApiOptions;
}

const prefix = (target: string | null): string => (target === null ? 'hookgate:' : `[${target}]`);

/**
 * Calls through one Octokit, loaded on the first call. A token GitHub refuses turns
 * every later call into a no-op, after one warning.
 */
function openCaller(options: GitHubApiOptions): { call: Call; scrub: (text: string) => string } {
  const { log } = options;
  const baseUrl = (options.apiUrl ?? (process.env.GITHUB_API_URL || 'https://api.github.com')).replace(/\/+$/, '');
  const scrub = createRedactor([options.token]);
  let octokit: Promise<Octokit | null> | undefined;
  let refused = false;
  let firstAnswer: Promise<unknown> | undefined;

  const refuse = (message: string): void => {
    if (refused) return;
    refused = true;
    log.warning(scrub(message));
  };

  async function connect(): Promise<Octokit | null> {
    try {
      const { getOctokit } = await loadGitHub();
      const quiet = (message: string): void => log.info(scrub(`GitHub API: ${message}`));
      // baseUrl read now, not when @actions/github was first loaded.
      return getOctokit(options.token, { baseUrl, log: { debug: () => {}, info: () => {}, warn: quiet, error: quiet } });
    } catch (error) {
      refuse(`could not load @actions/github (${errorMessage(error)}); continuing without GitHub deployments`);
      return null;
    }
  }

  async function send<T>(target: string | null, what: string, request: (o: Octokit, r: Request) => Promise<{ data: T }>, ms: number): Promise<T | undefined> {
    const client = await (octokit ??= connect());
    if (!client || refused) return undefined;
    const signal = AbortSignal.timeout(ms);
    try {
      return (await request(client, { signal })).data;
    } catch (error) {
      const { status, message } = answerOf(error);
      // 403 "Resource not accessible by integration" (no deployments: write) or 404 (no access to the
      // repository): every later call would be refused alike. A 403 rate limit is not about permission.
      if (status === 401) return void refuse(`github-token was refused (GitHub answered 401: ${message}); continuing without GitHub deployments`);
      if (status === 404 || (status === 403 && !/rate limit/i.test(message))) {
        return void refuse(`${PERMISSION_WARNING} (GitHub answered ${status}: ${message})`);
      }
      const why = signal.aborted
        ? `no answer within ${ms < 1000 ? `${ms} ms` : formatDuration(ms)}`
        : status === null ? `no answer: ${message}` : `GitHub answered ${status}: ${message}`;
      log.warning(scrub(`${prefix(target)} could not ${what} (${why}); the deployment goes on`));
      return undefined;
    }
  }

  const call: Call = (target, what, request, timeoutMs) => {
    const bound = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const ms = Math.min(timeoutMs ?? bound, bound);
    // The first answer tells whether the token may use deployments at all; until it comes the
    // other calls wait, so a token without permission costs one call and one warning, not one per target.
    const first = firstAnswer;
    const answer = first ? first.then(() => send(target, what, request, ms)) : send(target, what, request, ms);
    firstAnswer ??= answer;
    return answer;
  };
  return { call, scrub };
}

async function createDeployment(call: Call, { owner, repo, options }: Where, target: string, description: string): Promise<number | null> {
  // 201 with the deployment, or 202 with only a message: narrowed below.
  const data = await call<unknown>(target, 'create its GitHub deployment', (o, request) =>
    o.rest.repos.createDeployment({
      owner,
      repo,
      ref: options.sha || options.ref,
      environment: target,
      task: TASK,
      // GitHub would otherwise merge the default branch into the ref, or refuse over failing checks.
      auto_merge: false,
      required_contexts: [],
      description,
      payload: { hookgate: { deploymentId: options.deploymentId, attempt: options.attempt, target } },
      headers: HEADERS,
      request,
    }),
  );
  // A 202 (GitHub merged the default branch in first) carries no deployment; auto_merge: false rules it out.
  if (typeof data !== 'object' || data === null || !('id' in data) || typeof data.id !== 'number') return null;
  options.log.info(`[${target}] GitHub deployment ${data.id} created (environment ${target})`);
  return data.id;
}

async function setStatus(
  call: Call,
  { owner, repo, options }: Where,
  id: number,
  target: string,
  state: DeploymentState,
  description: string,
  ms?: number,
): Promise<boolean> {
  const logUrl = /^https?:\/\//.test(options.runUrl) ? { log_url: options.runUrl } : {};
  const data = await call(
    target,
    `set GitHub deployment ${id} to ${state}`,
    (o, request) => o.rest.repos.createDeploymentStatus({ owner, repo, deployment_id: id, state, description, ...logUrl, headers: HEADERS, request }),
    ms,
  );
  return data !== undefined;
}

async function findDeployments(call: Call, { owner, repo, options }: Where, target: string | null, ms?: number, anyCommit = false): Promise<FoundDeployment[]> {
  const ref = anyCommit ? {} : options.sha ? { sha: options.sha } : { ref: options.ref };
  const data = await call(
    target,
    'look up its GitHub deployment',
    (o, request) =>
      o.rest.repos.listDeployments({
        owner,
        repo,
        ...ref,
        task: TASK,
        ...(target === null ? {} : { environment: target }),
        // Newest first: this attempt's deployments are on the first page.
        per_page: 100,
        headers: HEADERS,
        request,
      }),
    ms,
  );
  return (data ?? []).flatMap((deployment) => {
    const mark = hookgateMark(deployment.payload);
    const ours = mark?.deploymentId === options.deploymentId && mark.attempt === options.attempt && (target === null || mark.target === target);
    return ours && mark ? [{ id: deployment.id, target: mark.target }] : [];
  });
}

async function latestState(call: Call, { owner, repo }: Where, id: number, target: string): Promise<string | null | undefined> {
  const data = await call(target, `read the statuses of GitHub deployment ${id}`, (o, request) =>
    o.rest.repos.listDeploymentStatuses({ owner, repo, deployment_id: id, per_page: 100, headers: HEADERS, request }),
  );
  if (data === undefined) return undefined;
  // Status ids grow with time, whatever order the list comes in.
  return data.reduce<{ id: number; state: string } | null>((latest, s) => (latest && latest.id > s.id ? latest : s), null)?.state ?? null;
}

/** `payload.hookgate` as `create` wrote it, or null for a deployment someone else made. */
function hookgateMark(payload: unknown): { deploymentId: string; attempt: number; target: string } | null {
  let value = payload;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  const mark = typeof value === 'object' && value !== null && 'hookgate' in value ? value.hookgate : null;
  if (typeof mark !== 'object' || mark === null) return null;
  const { deploymentId, attempt, target } = mark as Record<string, unknown>;
  return typeof deploymentId === 'string' && typeof attempt === 'number' && typeof target === 'string' ? { deploymentId, attempt, target } : null;
}

/**
 * Status and GitHub's own message, never the error object: Octokit's errors carry
 * the request, headers included.
 */
function answerOf(error: unknown): { status: number | null; message: string } {
  if (typeof error !== 'object' || error === null) return { status: null, message: String(error) };
  const response = 'response' in error && typeof error.response === 'object' && error.response !== null ? error.response : null;
  // No response: Octokit reports a network failure as status 500; it is no answer at all.
  if (!response || !('status' in error) || typeof error.status !== 'number') return { status: null, message: errorMessage(error) };
  const data = 'data' in response ? response.data : undefined;
  let message = typeof data === 'string' ? data : '';
  if (typeof data === 'object' && data !== null) {
    if ('message' in data && typeof data.message === 'string') message = data.message;
    // A 422's details: [{ resource, field, code, message? }].
    const first: unknown = 'errors' in data && Array.isArray(data.errors) ? data.errors[0] : undefined;
    if (typeof first === 'object' && first !== null && 'message' in first && typeof first.message === 'string') message += `: ${first.message}`;
  }
  return { status: error.status, message: truncateCodePoints(message.trim() || 'no message', 300) };
}

