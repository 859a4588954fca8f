/**
 * A local stand-in for GitHub's REST API on 127.0.0.1, as far as hookgate uses it:
 *
 * - `POST /repos/{owner}/{repo}/dispatches` (repository_dispatch, the examples'
 *   webhook). Like GitHub it checks the token and the body and answers 204; then
 *   it "runs" the dispatched workflow, which calls back to
 *   `client_payload.callbackUri` with a bearer token, as a workflow step with curl would.
 * - The deployment endpoints (create, list, statuses), which check every request as
 *   GitHub does: token, user agent, `Accept`, API version, JSON body, required fields,
 *   types, unknown keys (422), description length; lists filter and page like GitHub's.
 *
 * Every request is recorded with what the fake answered; `refusals()` are the ones
 * GitHub would have refused as malformed, a bug in the caller.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';

export interface Dispatch {
  repository: string;
  eventType: string;
  clientPayload: Record<string, unknown>;
}

export interface WorkflowCallback {
  uri: string;
  status: number;
  authorization: string;
}

export interface RecordedRequest {
  method: string;
  /** Without the query. */
  path: string;
  query: Record<string, string>;
  headers: { authorization: string; accept: string; contentType: string; apiVersion: string; userAgent: string };
  /** The parsed JSON body; null without one. */
  body: unknown;
  /** What the fake answered. */
  status: number;
  /** Why the fake refused the request as GitHub would have; null when it did not (a scripted failure is no refusal). */
  refusal: string | null;
}

export type DeploymentStatusState = 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';

export interface FakeDeploymentStatus {
  id: number;
  state: DeploymentStatusState;
  description: string;
  logUrl: string;
  environment: string;
}

export interface FakeDeployment {
  id: number;
  repository: string;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  description: string | null;
  payload: unknown;
  transientEnvironment: boolean;
  productionEnvironment: boolean;
  /** Oldest first. */
  statuses: FakeDeploymentStatus[];
}

/** A scripted failure of the deployment endpoints: GitHub's error `status`, or no answer at all (`hang`). */
export interface FailureRule {
  status: 401 | 403 | 404 | 409 | 422 | 500 | 502 | 'hang';
  method?: 'GET' | 'POST';
  /** Matched against the path without the query. */
  path?: RegExp;
  /** How many requests fail; default all. */
  times?: number;
}

export interface FakeGitHub {
  url: string;
  /** The token a request must present (`Authorization: Bearer …` or `token …`). */
  token: string;
  dispatches: Dispatch[];
  /** The request bodies of the dispatches, exactly as they arrived. */
  rawBodies: string[];
  callbacks: WorkflowCallback[];
  /** Every request to the deployment endpoints, in order of arrival. */
  requests: RecordedRequest[];
  /** Every deployment, oldest first. */
  deployments: FakeDeployment[];
  /** Branches and tags a deployment's `ref` may name, to their commit; a full commit SHA needs no entry. */
  refs: Map<string, string>;
  /** Adds a scripted failure; rules are tried in order. */
  fail(rule: FailureRule): void;
  /** A deployment made by someone else (another run, another tool), with its statuses. */
  seedDeployment(fields: Partial<Omit<FakeDeployment, 'id' | 'statuses'>> & { states?: DeploymentStatusState[] }): FakeDeployment;
  /** The requests GitHub would have refused as malformed. */
  refusals(): RecordedRequest[];
  /** Resolves when `count` workflow callbacks have been answered. */
  waitForCallbacks(count: number, timeoutMs?: number): Promise<WorkflowCallback[]>;
  close(): Promise<void>;
}

class Refusal extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.body = { message, documentation_url: 'https://docs.github.com/rest', status: String(status), ...extra };
  }
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

const STATES: readonly DeploymentStatusState[] = ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'];
const API_VERSIONS = ['2022-11-28', '2026-03-10'];
/** GitHub's answers to scripted failures. */
const FAILURES: Record<number, string> = {
  401: 'Bad credentials',
  403: 'Resource not accessible by integration',
  404: 'Not Found',
  409: 'Conflict: Commit status checks failed for main.',
  422: 'Validation Failed',
  500: 'Server Error',
  502: 'Server Error',
};

/**
 * Starts the fake. The dispatched "workflow" decides by `client_payload.decision`
 * (`success` unless `failure`) after `client_payload.delayMs` (default 50).
 */
export async function startFakeGitHub(token: string): Promise<FakeGitHub> {
  const dispatches: Dispatch[] = [];
  const rawBodies: string[] = [];
  const callbacks: WorkflowCallback[] = [];
  const running = new Set<Promise<void>>();
  const requests: RecordedRequest[] = [];
  const deployments: FakeDeployment[] = [];
  const refs = new Map<string, string>();
  const rules: FailureRule[] = [];
  let nextDeploymentId = 1000;
  let nextStatusId = 5000;
  let base = '';

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const reply = ({ status, body, headers = {} }: Answer): void => {
        res.writeHead(status, body === undefined ? headers : { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(body === undefined ? undefined : JSON.stringify(body));
      };
      const url = new URL(req.url ?? '/', 'http://fake');
      if (/^\/repos\/[^/]+\/[^/]+\/dispatches$/.test(url.pathname)) return dispatch(req, raw, reply);
      const answer = deploymentRequest(req, url, raw);
      if (answer) reply(answer);
    });
  });

  function dispatch(req: IncomingMessage, raw: string, reply: (answer: Answer) => void): void {
    const match = /^\/repos\/([^/]+\/[^/]+)\/dispatches$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match?.[1]) return reply({ status: 404, body: { message: 'Not Found' } });
    const auth = /^(?:Bearer|token)\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (auth?.[1] !== token) return reply({ status: 401, body: { message: 'Bad credentials' } });
    let body: { event_type?: unknown; client_payload?: unknown };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return reply({ status: 400, body: { message: 'Problems parsing JSON' } });
    }
    if (typeof body.event_type !== 'string' || body.event_type.length === 0 || body.event_type.length > 100) {
      return reply({ status: 422, body: { message: 'Invalid request: event_type' } });
    }
    const payload = body.client_payload ?? {};
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload) || Object.keys(payload).length > 10) {
      return reply({ status: 422, body: { message: 'Invalid request: client_payload' } });
    }
    const clientPayload = payload as Record<string, unknown>;
    dispatches.push({ repository: match[1], eventType: body.event_type, clientPayload });
    rawBodies.push(raw);
    reply({ status: 204 });
    const job = runWorkflow(clientPayload).finally(() => running.delete(job));
    running.add(job);
  }

  /** The answer to a deployment request, or null to leave it hanging. */
  function deploymentRequest(req: IncomingMessage, url: URL, raw: string): Answer | null {
    const method = req.method ?? 'GET';
    const header = (name: string): string => String(req.headers[name] ?? '');
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: {
        authorization: header('authorization'),
        accept: header('accept'),
        contentType: header('content-type'),
        apiVersion: header('x-github-api-version'),
        userAgent: header('user-agent'),
      },
      body: null,
      status: 0,
      refusal: null,
    };
    requests.push(record);
    try {
      if (raw) {
        try {
          record.body = JSON.parse(raw);
        } catch {
          throw new Refusal(400, 'Problems parsing JSON');
        }
      }
      checkHeaders(record);
      const rule = rules.find((r) => (!r.method || r.method === method) && (!r.path || r.path.test(url.pathname)) && (r.times ?? 1) > 0);
      if (rule) {
        if (rule.times !== undefined) rule.times -= 1;
        if (rule.status === 'hang') return null;
        record.status = rule.status;
        return { status: rule.status, body: { message: FAILURES[rule.status], documentation_url: 'https://docs.github.com/rest', status: String(rule.status) } };
      }
      const answer = route(method, url, record.body);
      record.status = answer.status;
      return answer;
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      record.status = error.status;
      record.refusal = error.message;
      return { status: error.status, body: error.body };
    }
  }

  function checkHeaders(record: RecordedRequest): void {
    const { authorization, accept, contentType, apiVersion, userAgent } = record.headers;
    if (!authorization) throw new Refusal(401, 'Requires authentication');
    if (/^(?:Bearer|token)\s+(.+)$/i.exec(authorization)?.[1] !== token) throw new Refusal(401, 'Bad credentials');
    // GitHub refuses a request without a User-Agent.
    if (!userAgent) throw new Refusal(403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header');
    if (!/^application\/(?:vnd\.github(?:\.v3)?\+json|json)$/.test(accept)) throw new Refusal(415, `Unsupported 'Accept' header: '${accept}'`);
    if (apiVersion && !API_VERSIONS.includes(apiVersion)) throw new Refusal(400, `API version '${apiVersion}' is not supported.`);
    if (record.method === 'POST' && !/^application\/json\b/.test(contentType)) throw new Refusal(415, 'Unsupported Media Type: a JSON body is expected');
    if (record.method === 'GET' && record.body !== null) throw new Refusal(400, 'A GET request takes no body');
  }

  function route(method: string, url: URL, body: unknown): Answer {
    const list = /^\/repos\/([^/]+\/[^/]+)\/deployments$/.exec(url.pathname);
    const statuses = /^\/repos\/([^/]+\/[^/]+)\/deployments\/(\d+)\/statuses$/.exec(url.pathname);
    if (list?.[1] && method === 'POST') return createDeployment(list[1], fields(body, CREATE_FIELDS));
    if (list?.[1] && method === 'GET') {
      const q = url.searchParams;
      const found = deployments.filter(
        (d) =>
          d.repository === list[1] &&
          (!q.has('sha') || d.sha === q.get('sha')) &&
          (!q.has('ref') || d.ref === q.get('ref')) &&
          (!q.has('task') || d.task === q.get('task')) &&
          (!q.has('environment') || d.environment === q.get('environment')),
      );
      return page(url, found.toReversed().map(deploymentJson));
    }
    if (statuses?.[1] && statuses[2]) {
      const deployment = deployments.find((d) => d.repository === statuses[1] && d.id === Number(statuses[2]));
      if (!deployment) throw new Refusal(404, 'Not Found');
      if (method === 'POST') return createStatus(deployment, fields(body, STATUS_FIELDS));
      if (method === 'GET') return page(url, deployment.statuses.toReversed().map((s) => statusJson(deployment, s)));
    }
    throw new Refusal(404, 'Not Found');
  }

  function createDeployment(repository: string, body: Record<string, unknown>): Answer {
    if (body.ref === undefined) throw new Refusal(422, 'Invalid request.\n\n"ref" wasn\'t supplied.');
    const ref = body.ref as string;
    const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : refs.get(ref);
    // A well-formed request GitHub cannot carry out: its answer, not a refusal of the request's form.
    if (!sha) return { status: 422, body: { message: `No ref found for: ${ref}`, documentation_url: 'https://docs.github.com/rest', status: '422' } };
    const environment = (body.environment as string | undefined) ?? 'production';
    const deployment: FakeDeployment = {
      id: nextDeploymentId++,
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
    deployments.push(deployment);
    return { status: 201, body: deploymentJson(deployment) };
  }

  function createStatus(deployment: FakeDeployment, body: Record<string, unknown>): Answer {
    if (body.state === undefined) throw new Refusal(422, 'Invalid request.\n\n"state" wasn\'t supplied.');
    const state = body.state as DeploymentStatusState;
    if (!STATES.includes(state)) throw new Refusal(422, `Invalid request.\n\nFor 'properties/state', "${state}" is not a valid value.`);
    const description = (body.description as string | undefined) ?? '';
    if ([...description].length > 140) {
      throw new Refusal(422, 'Validation Failed', {
        errors: [{ resource: 'DeploymentStatus', code: 'custom', field: 'description', message: 'description is too long (maximum is 140 characters)' }],
      });
    }
    const logUrl = (body.log_url as string | undefined) ?? (body.target_url as string | undefined) ?? '';
    const environment = (body.environment as string | undefined) ?? deployment.statuses.at(-1)?.environment ?? deployment.environment;
    const status: FakeDeploymentStatus = { id: nextStatusId++, state, description, logUrl, environment };
    deployment.statuses.push(status);
    // auto_inactive (default true): earlier successful deployments of the environment become inactive.
    if (state === 'success' && body.auto_inactive !== false) {
      for (const other of deployments) {
        const latest = other.statuses.at(-1);
        if (other === deployment || other.id > deployment.id || other.repository !== deployment.repository) continue;
        if (other.environment !== environment || other.transientEnvironment || other.productionEnvironment || latest?.state !== 'success') continue;
        other.statuses.push({ id: nextStatusId++, state: 'inactive', description: '', logUrl: latest.logUrl, environment });
      }
    }
    return { status: 201, body: statusJson(deployment, status) };
  }

  /** GitHub's paging: `per_page` (default 30, at most 100) and `page`, with a Link header to the next. */
  function page(url: URL, items: unknown[]): Answer {
    const perPage = Math.min(100, Math.max(1, Number.parseInt(url.searchParams.get('per_page') ?? '', 10) || 30));
    const number = Math.max(1, Number.parseInt(url.searchParams.get('page') ?? '', 10) || 1);
    const body = items.slice((number - 1) * perPage, number * perPage);
    if (number * perPage >= items.length) return { status: 200, body };
    const next = new URL(url.pathname + url.search, base);
    next.searchParams.set('page', String(number + 1));
    return { status: 200, body, headers: { link: `<${next.href}>; rel="next"` } };
  }

  function deploymentJson(d: FakeDeployment): Record<string, unknown> {
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

  function statusJson(d: FakeDeployment, s: FakeDeploymentStatus): Record<string, unknown> {
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

  /** The dispatched workflow: `curl -H "Authorization: Bearer $TOKEN" -d '{"success": …}' $CALLBACK_URI`. */
  async function runWorkflow(payload: Record<string, unknown>): Promise<void> {
    const uri = typeof payload.callbackUri === 'string' ? payload.callbackUri : '';
    if (!uri) return;
    const delayMs = typeof payload.delayMs === 'number' ? payload.delayMs : 50;
    await new Promise((r) => setTimeout(r, delayMs));
    const success = payload.decision !== 'failure';
    const authorization = `Bearer ${token}`;
    const res = await fetch(uri, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ success, mdMessage: `workflow **${String(payload.suite ?? 'tests')}** ${success ? 'passed' : 'failed'}` }),
    });
    await res.arrayBuffer();
    callbacks.push({ uri, status: res.status, authorization });
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;

  return {
    url: base,
    token,
    dispatches,
    rawBodies,
    callbacks,
    requests,
    deployments,
    refs,
    fail(rule) {
      rules.push({ ...rule });
    },
    seedDeployment({ states = [], ...fields }) {
      const environment = fields.environment ?? 'production';
      const deployment: FakeDeployment = {
        id: nextDeploymentId++,
        repository: 'octo/app',
        sha: '0'.repeat(40),
        ref: fields.sha ?? '0'.repeat(40),
        task: 'deploy',
        environment,
        description: '',
        payload: {},
        transientEnvironment: false,
        productionEnvironment: environment === 'production',
        ...fields,
        statuses: [],
      };
      for (const state of states) deployment.statuses.push({ id: nextStatusId++, state, description: '', logUrl: '', environment });
      deployments.push(deployment);
      return deployment;
    },
    refusals: () => requests.filter((r) => r.refusal !== null),
    async waitForCallbacks(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (callbacks.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${callbacks.length} of ${count} workflow callbacks within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return callbacks;
    },
    async close() {
      await Promise.allSettled([...running]);
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

type FieldType = 'string' | 'string?' | 'boolean' | 'strings' | 'payload';

/** GitHub's body parameters of "Create a deployment". */
const CREATE_FIELDS: Record<string, FieldType> = {
  ref: 'string',
  task: 'string',
  auto_merge: 'boolean',
  required_contexts: 'strings',
  payload: 'payload',
  environment: 'string',
  description: 'string?',
  transient_environment: 'boolean',
  production_environment: 'boolean',
};

/** GitHub's body parameters of "Create a deployment status". */
const STATUS_FIELDS: Record<string, FieldType> = {
  state: 'string',
  target_url: 'string',
  log_url: 'string',
  description: 'string',
  environment: 'string',
  environment_url: 'string',
  auto_inactive: 'boolean',
};

/** The body as an object of known fields of the right types; GitHub's 422 otherwise. */
function fields(body: unknown, schema: Record<string, FieldType>): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Refusal(422, 'Invalid request.\n\nInvalid input: object is expected.');
  const record = body as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    const type = schema[key];
    if (!type) throw new Refusal(422, `Invalid request.\n\n"${key}" is not a permitted key.`);
    const ok = {
      string: typeof value === 'string',
      'string?': typeof value === 'string' || value === null,
      boolean: typeof value === 'boolean',
      strings: Array.isArray(value) && value.every((v) => typeof v === 'string'),
      payload: typeof value === 'string' || (typeof value === 'object' && value !== null && !Array.isArray(value)),
    }[type];
    if (!ok) throw new Refusal(422, `Invalid request.\n\nFor 'properties/${key}', ${JSON.stringify(value)} is not a ${type === 'strings' ? 'array of strings' : type}.`);
  }
  return record;
}
