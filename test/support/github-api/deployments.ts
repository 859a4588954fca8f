/**
 * The deployment endpoints (create, list, statuses) over an in-memory store, answering as
 * GitHub does: required fields, states, description length, auto_inactive, and lists that
 * filter and page like GitHub's.
 */
import { CREATE_FIELDS, STATUS_FIELDS, fields } from './request-check.ts';
import { Refusal } from './types.ts';
import type { Answer, DeploymentStatusState, FakeDeployment, FakeDeploymentStatus } from './types.ts';
import { deploymentJson, page, statusJson } from './json.ts';

const STATES: readonly DeploymentStatusState[] = ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'];

export interface DeploymentStore {
  deployments: FakeDeployment[];
  refs: Map<string, string>;
  /** The answer to a well-formed request; throws a Refusal for one GitHub would refuse. */
  route(method: string, url: URL, body: unknown): Answer;
  seed(fields: Partial<Omit<FakeDeployment, 'id' | 'statuses'>> & { states?: DeploymentStatusState[] }): FakeDeployment;
}

interface StoreState {
  deployments: FakeDeployment[];
  refs: Map<string, string>;
  ids: { deployment: number; status: number };
  base: () => string;
}

/** An empty store; `base()` is the fake's URL, for the links in its answers. */
export function deploymentStore(base: () => string): DeploymentStore {
  const state: StoreState = { deployments: [], refs: new Map(), ids: { deployment: 1000, status: 5000 }, base };
  return {
    deployments: state.deployments,
    refs: state.refs,
    route(method, url, body) {
      const listPath = /^\/repos\/([^/]+\/[^/]+)\/deployments$/.exec(url.pathname);
      const statuses = /^\/repos\/([^/]+\/[^/]+)\/deployments\/(\d+)\/statuses$/.exec(url.pathname);
      if (listPath?.[1] && method === 'POST') return createDeployment(state, listPath[1], fields(body, CREATE_FIELDS));
      if (listPath?.[1] && method === 'GET') return list(state, listPath[1], url);
      if (statuses?.[1] && statuses[2]) {
        const deployment = state.deployments.find((d) => d.repository === statuses[1] && d.id === Number(statuses[2]));
        if (!deployment) throw new Refusal(404, 'Not Found');
        if (method === 'POST') return createStatus(state, deployment, fields(body, STATUS_FIELDS));
        if (method === 'GET') return page(base(), url, deployment.statuses.toReversed().map((s) => statusJson(base(), deployment, s)));
      }
      throw new Refusal(404, 'Not Found');
    },
    seed: (given) => seed(state, given),
  };
}

function createDeployment(state: StoreState, repository: string, body: Record<string, unknown>): Answer {
  if (body.ref === undefined) throw new Refusal(422, 'Invalid request.\n\n"ref" wasn\'t supplied.');
  const ref = body.ref as string;
  const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : state.refs.get(ref);
  // A well-formed request GitHub cannot carry out: its answer, not a refusal of the request's form.
  if (!sha) return { status: 422, body: { message: `No ref found for: ${ref}`, documentation_url: 'https://docs.github.com/rest', status: '422' } };
  const environment = (body.environment as string | undefined) ?? 'production';
  const deployment: FakeDeployment = {
    id: state.ids.deployment++,
    repository,
    sha,
    ref,
    task: (body.task as string | undefined) ?? 'deploy',
    environment,
    description: (body.description as string | null | undefined) ?? '',
    payload: typeof body.payload === 'string' ? body.payload : (body.payload ?? {}),
    transientEnvironment: (body.transient_environment as boolean | undefined) ?? false,
    productionEnvironment: (body.production_environment as boolean | undefined) ?? environment === 'production',
    statuses: [],
  };
  state.deployments.push(deployment);
  return { status: 201, body: deploymentJson(state.base(), deployment) };
}

function createStatus(state: StoreState, deployment: FakeDeployment, body: Record<string, unknown>): Answer {
  if (body.state === undefined) throw new Refusal(422, 'Invalid request.\n\n"state" wasn\'t supplied.');
  const value = body.state as DeploymentStatusState;
  if (!STATES.includes(value)) throw new Refusal(422, `Invalid request.\n\nFor 'properties/state', "${value}" is not a valid value.`);
  const description = (body.description as string | undefined) ?? '';
  if ([...description].length > 140) {
    throw new Refusal(422, 'Validation Failed', {
      errors: [{ resource: 'DeploymentStatus', code: 'custom', field: 'description', message: 'description is too long (maximum is 140 characters)' }],
    });
  }
  const logUrl = (body.log_url as string | undefined) ?? (body.target_url as string | undefined) ?? '';
  const environment = (body.environment as string | undefined) ?? deployment.statuses.at(-1)?.environment ?? deployment.environment;
  const status: FakeDeploymentStatus = { id: state.ids.status++, state: value, description, logUrl, environment };
  deployment.statuses.push(status);
  if (value === 'success' && body.auto_inactive !== false) retireEarlier(state, deployment, environment);
  return { status: 201, body: statusJson(state.base(), deployment, status) };
}

/** auto_inactive (default true): earlier successful deployments of the environment become inactive. */
function retireEarlier(state: StoreState, deployment: FakeDeployment, environment: string): void {
  for (const other of state.deployments) {
    const latest = other.statuses.at(-1);
    if (other === deployment || other.id > deployment.id || other.repository !== deployment.repository) continue;
    if (other.environment !== environment || other.transientEnvironment || other.productionEnvironment || latest?.state !== 'success') continue;
    other.statuses.push({ id: state.ids.status++, state: 'inactive', description: '', logUrl: latest.logUrl, environment });
  }
}

function list(state: StoreState, repository: string, url: URL): Answer {
  const q = url.searchParams;
  const found = state.deployments.filter(
    (d) =>
      d.repository === repository &&
      (!q.has('sha') || d.sha === q.get('sha')) &&
      (!q.has('ref') || d.ref === q.get('ref')) &&
      (!q.has('task') || d.task === q.get('task')) &&
      (!q.has('environment') || d.environment === q.get('environment')),
  );
  return page(state.base(), url, found.toReversed().map((d) => deploymentJson(state.base(), d)));
}

function seed(state: StoreState, { states = [], ...given }: Parameters<DeploymentStore['seed']>[0]): FakeDeployment {
  const environment = given.environment ?? 'production';
  const deployment: FakeDeployment = {
    id: state.ids.deployment++,
    repository: 'octo/app',
    sha: '0'.repeat(40),
    ref: given.sha ?? '0'.repeat(40),
    task: 'deploy',
    environment,
    description: '',
    payload: {},
    transientEnvironment: false,
    productionEnvironment: environment === 'production',
    ...given,
    statuses: [],
  };
  for (const value of states) deployment.statuses.push({ id: state.ids.status++, state: value, description: '', logUrl: '', environment });
  state.deployments.push(deployment);
  return deployment;
}
