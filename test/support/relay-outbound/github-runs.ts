/**
 * The relay tests' fake of `GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs`: the
 * runs the fake's accepted dispatches started (github-app.ts), newest first, filtered by `branch`,
 * `event`, `actor` and `created` (GitHub's `>=t` and `a..b` forms, whole seconds), the query checked against
 * GitHub's OpenAPI description as the e2e fake checks it (test/support/github-api/openapi.ts).
 */
import { checkQuery } from '../github-api/openapi.ts';
import { Refusal } from '../github-api/types.ts';
import { fakeRepo, githubError } from './github-app.ts';

const RUNS_PATH = /^\/repos\/([^/]+\/[^/]+)\/actions\/workflows\/([^/]+)\/runs$/;

/** The runs list's answer, or null for another path. */
export function githubRuns(request: Request, url: URL): Response | null {
  const match = RUNS_PATH.exec(url.pathname);
  if (!match || request.method !== 'GET') return null;
  const repo = fakeRepo(decodeURIComponent(match[1] ?? ''));
  const token = /^token (\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  if (!token || !repo.tokens.includes(token)) return githubError(401, 'Bad credentials');
  try {
    checkQuery('api.github.com', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', 'GET', url.searchParams);
  } catch (error) {
    if (error instanceof Refusal) return githubError(error.status, error.message);
    throw error;
  }
  const query = url.searchParams;
  repo.listings.push(Object.fromEntries(query));
  if (repo.runs === 'error') return githubError(500, 'Server Error');
  const file = decodeURIComponent(match[2] ?? '');
  const created = query.get('created') ?? '';
  const [, from = '', to = ''] = /^(?:>=(.+)|(.+)\.\.(.+))$/.exec(created)?.filter((part) => part !== undefined) ?? [];
  const inWindow = (at: string): boolean => created === '' || (Date.parse(at) >= Date.parse(from) && (to === '' || Date.parse(at) <= Date.parse(to)));
  const runs = repo.started
    .filter((run) => run.path.split('/').at(-1) === file)
    .filter((run) => (query.get('branch') ?? run.head_branch) === run.head_branch && (query.get('event') ?? run.event) === run.event)
    .filter((run) => (query.get('actor') ?? run.actor) === run.actor && inWindow(run.created_at))
    .toReversed()
    .slice(0, Number(query.get('per_page') ?? '30'))
    .map((run) => ({ ...run, name: file, status: 'queued', triggering_actor: { login: run.actor, type: 'Bot' }, actor: { login: run.actor, type: 'Bot' } }));
  return Response.json({ total_count: runs.length, workflow_runs: runs });
}
