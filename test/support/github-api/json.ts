/** The fake's answers in GitHub's JSON shapes: deployments, statuses, and paged lists. */
import type { Answer, FakeDeployment, FakeDeploymentStatus } from './types.ts';

/** GitHub's paging: `per_page` (default 30, at most 100) and `page`, with a Link header to the next. */
export function page(base: string, url: URL, items: unknown[]): Answer {
  const perPage = Math.min(100, Math.max(1, Number.parseInt(url.searchParams.get('per_page') ?? '', 10) || 30));
  const number = Math.max(1, Number.parseInt(url.searchParams.get('page') ?? '', 10) || 1);
  const body = items.slice((number - 1) * perPage, number * perPage);
  if (number * perPage >= items.length) return { status: 200, body };
  const next = new URL(url.pathname + url.search, base);
  next.searchParams.set('page', String(number + 1));
  return { status: 200, body, headers: { link: `<${next.href}>; rel="next"` } };
}

export function deploymentJson(base: string, d: FakeDeployment): Record<string, unknown> {
  const url = `${base}/repos/${d.repository}/deployments/${d.id}`;
  return {
    url,
    id: d.id,
    node_id: `DE_${d.id}`,
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    payload: d.payload,
    original_environment: d.environment,
    environment: d.environment,
    description: d.description,
    creator: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
    created_at: new Date(Date.UTC(2025, 0, 1, 0, 0, d.id - 1000)).toISOString(),
    updated_at: new Date(Date.UTC(2025, 0, 1, 0, 0, d.id - 1000)).toISOString(),
    statuses_url: `${url}/statuses`,
    repository_url: `${base}/repos/${d.repository}`,
    transient_environment: d.transientEnvironment,
    production_environment: d.productionEnvironment,
  };
}

export function statusJson(base: string, d: FakeDeployment, s: FakeDeploymentStatus): Record<string, unknown> {
  const url = `${base}/repos/${d.repository}/deployments/${d.id}`;
  return {
    url: `${url}/statuses/${s.id}`,
    id: s.id,
    node_id: `DES_${s.id}`,
    state: s.state,
    creator: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
    description: s.description,
    environment: s.environment,
    target_url: s.logUrl,
    log_url: s.logUrl,
    environment_url: '',
    created_at: new Date(Date.UTC(2025, 0, 1, 0, 0, s.id - 5000)).toISOString(),
    updated_at: new Date(Date.UTC(2025, 0, 1, 0, 0, s.id - 5000)).toISOString(),
    deployment_url: url,
    repository_url: `${base}/repos/${d.repository}`,
  };
}
