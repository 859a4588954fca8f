/**
 * `GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs` as GitHub answers it: an
 * installation token of the App with `actions: read`, a query GitHub's description takes
 * (openapi.ts), and the runs the accepted workflow dispatches started (workflows.ts), newest
 * first, filtered by `branch`, `event`, `actor`, `created` (GitHub's date syntax) and paged.
 * Every run was triggered by the App's bot (`<slug>[bot]`), as a dispatch with its token is.
 */
import type { AppAuthority } from './app-auth.ts';
import type { WorkflowDispatch } from './app-types.ts';
import { page } from './json.ts';
import { checkQuery } from './openapi.ts';
import type { ApiFlavour } from './openapi.ts';
import { Refusal } from './types.ts';
import type { Answer } from './types.ts';

export const WORKFLOW_RUNS_PATH = /^\/repos\/([^/]+\/[^/]+)\/actions\/workflows\/([^/]+)\/runs$/;
const SCHEMA_PATH = '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs';
/** The bot's user id: GitHub gives each App's bot its own. */
const BOT_ID = 41_000_001;

/** The list of `workflowId`'s runs in `repository`; throws a Refusal for a request GitHub refuses. */
export function listWorkflowRuns(
  authority: AppAuthority | null,
  flavour: ApiFlavour,
  slug: string,
  dispatches: WorkflowDispatch[],
  repository: string,
  workflowId: string,
  request: { base: string; url: URL; authorization: string },
): Answer {
  const { base, url, authorization } = request;
  if (!authority) throw new Refusal(401, 'Bad credentials');
  authority.checkToken(authorization, repository);
  authority.checkPermission('actions', 'read');
  checkQuery(flavour, SCHEMA_PATH, 'GET', url.searchParams);
  const file = decodeURIComponent(workflowId);
  const bot = `${slug}[bot]`;
  const query = url.searchParams;
  const runs = dispatches
    .filter((d) => d.repository.toLowerCase() === repository.toLowerCase() && (d.workflow === file || d.workflow.split('/').at(-1) === file))
    .filter((d) => (query.get('branch') ?? d.ref) === d.ref && (query.get('event') ?? 'workflow_dispatch') === 'workflow_dispatch')
    .filter((d) => (query.get('actor') ?? bot).toLowerCase() === bot.toLowerCase() && createdMatches(query.get('created'), d.at))
    .reverse()
    .map((d) => runJson(d, bot));
  const answer = page(base, url, runs);
  return { ...answer, body: { total_count: runs.length, workflow_runs: answer.body } };
}

/** GitHub's `created` filter on whole seconds: `>=t`, `>t`, `<=t`, `<t`, `t` (that day or moment), `a..b`. */
function createdMatches(filter: string | null, atMs: number): boolean {
  if (filter === null) return true;
  const at = Math.floor(atMs / 1000) * 1000;
  const range = /^(.+)\.\.(.+)$/.exec(filter);
  if (range) return at >= Date.parse(range[1] ?? '') && at <= Date.parse(range[2] ?? '');
  const [, op = '', time = ''] = /^(>=|<=|>|<)?(.+)$/.exec(filter) ?? [];
  const t = Date.parse(time);
  return { '>=': at >= t, '>': at > t, '<=': at <= t, '<': at < t, '': at === t }[op] ?? false;
}

function runJson(d: WorkflowDispatch, bot: string): Record<string, unknown> {
  const created = new Date(d.at).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const actor = { login: bot, id: BOT_ID, type: 'Bot' };
  return {
    id: Number(d.runId),
    name: d.workflow.split('/').at(-1),
    head_branch: d.ref,
    path: d.workflow,
    event: 'workflow_dispatch',
    status: 'queued',
    conclusion: null,
    created_at: created,
    updated_at: created,
    run_started_at: created,
    run_attempt: 1,
    html_url: d.htmlUrl,
    url: `https://api.github.com/repos/${d.repository}/actions/runs/${d.runId}`,
    actor,
    triggering_actor: actor,
  };
}
