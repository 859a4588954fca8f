/**
 * The fake's HTTP server: routes to repository_dispatch (dispatch.ts), the GitHub App's endpoints
 * (app-auth.ts), workflow dispatches (workflows.ts), sign-in, people and the protection rule
 * (identity-routes.ts) or the deployment endpoints (deployments.ts), records every request but
 * repository_dispatch's with what it answered, and plays the failures a test scripts.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { appAuthority } from './app-auth.ts';
import type { AppAuthority } from './app-auth.ts';
import type { FakeGitHubOptions } from './app-types.ts';
import { DISPATCH_PATH, dispatchEndpoint } from './dispatch.ts';
import { deploymentStore } from './deployments.ts';
import type { DeploymentStore } from './deployments.ts';
import { formOf, identityRoute } from './identity-routes.ts';
import type { IdentityRoutes } from './identity-routes.ts';
import { oauthServer } from './oauth.ts';
import { checkBody } from './openapi.ts';
import { directory } from './people.ts';
import { protectionRules } from './protection.ts';
import { checkHeaders } from './request-check.ts';
import { Refusal } from './types.ts';
import type { Answer, FailureRule, FakeGitHub, RecordedRequest } from './types.ts';
import { listWorkflowRuns, WORKFLOW_RUNS_PATH } from './workflow-runs.ts';
import { WORKFLOW_DISPATCH_PATH, workflowEndpoint } from './workflows.ts';
import type { WorkflowEndpoint } from './workflows.ts';

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
 * (`success` unless `failure`) after `client_payload.delayMs` (default 50). With `options.app`,
 * it is also that GitHub App's GitHub: installation, installation tokens, workflow dispatches.
 */
export async function startFakeGitHub(token: string, options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  let base = '';
  let clockOffset = 0;
  const now = (): number => Date.now() + clockOffset;
  const dispatch = dispatchEndpoint(token);
  const store = deploymentStore(() => base);
  const requests: RecordedRequest[] = [];
  const rules: FailureRule[] = [];
  const authority = options.app ? appAuthority(options.app, now) : null;
  const flavour = options.ghes ? 'ghes-3.19' : 'api.github.com';
  const workflows = workflowEndpoint(authority, flavour, now);
  const people = directory(options.people ?? { users: [] }, authority);
  const identity: IdentityRoutes = { oauth: oauthServer(options.oauth, people, now), people, protection: protectionRules(authority, flavour, now), base: () => base };
  const answerDeployment = deploymentAnswerer(token, { store, authority, workflows, identity, flavour }, requests, rules);

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://fake');
      const answering = DISPATCH_PATH.test(url.pathname) ? Promise.resolve(dispatch.handle(req, raw)) : answerDeployment(req, url, raw);
      void answering.then((answer) => {
        if (!answer) return; // a scripted hang
        const { status, body, text, headers = {} } = answer;
        res.writeHead(status, body === undefined ? headers : { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(body === undefined ? text : JSON.stringify(body));
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;

  return {
    url: base,
    token,
    dispatches: dispatch.dispatches,
    rawBodies: dispatch.rawBodies,
    callbacks: dispatch.callbacks,
    requests,
    deployments: store.deployments,
    refs: store.refs,
    workflowDispatches: workflows.dispatches,
    registerWorkflow: (workflow) => workflows.register(workflow),
    onDispatch: (hook) => workflows.onDispatch(hook),
    advanceClock: (seconds) => void (clockOffset += seconds * 1000),
    fail: (rule) => void rules.push({ ...rule }),
    seedDeployment: (fields) => store.seed(fields),
    signInAs: (login) => identity.oauth.signInAs(login),
    protectionRuleRequested: (request) => identity.protection.request(request, base, 'octocat'),
    protectionReviews: identity.protection.reviews,
    refusals: () => requests.filter((r) => r.refusal !== null),
    async waitForCallbacks(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (dispatch.callbacks.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${dispatch.callbacks.length} of ${count} workflow callbacks within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return dispatch.callbacks;
    },
    async close() {
      await dispatch.settle();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

interface Routes {
  store: DeploymentStore;
  authority: AppAuthority | null;
  workflows: WorkflowEndpoint;
  identity: IdentityRoutes;
  flavour: 'api.github.com' | 'ghes-3.19';
}

const INSTALLATION_PATH = /^\/repos\/([^/]+\/[^/]+)\/installation$/;
const ACCESS_TOKENS_PATH = /^\/app\/installations\/(\d+)\/access_tokens$/;

/** The App's endpoints and workflow dispatches, which authenticate themselves; null for a path of the deployment store. */
async function appRoute(routes: Routes, method: string, url: URL, record: RecordedRequest): Promise<Answer | null> {
  const installation = INSTALLATION_PATH.exec(url.pathname);
  const tokens = ACCESS_TOKENS_PATH.exec(url.pathname);
  const workflow = WORKFLOW_DISPATCH_PATH.exec(url.pathname);
  const runs = WORKFLOW_RUNS_PATH.exec(url.pathname);
  if (!installation && !tokens && !workflow && !runs && url.pathname !== '/app') return null;
  checkHeaders(record, null);
  const authorization = record.headers.authorization;
  if (url.pathname === '/app' && method === 'GET' && routes.authority) return routes.authority.app(authorization);
  if (runs?.[1] && runs[2] && method === 'GET') {
    const request = { base: routes.identity.base(), url, authorization };
    return listWorkflowRuns(routes.authority, routes.flavour, routes.authority?.slug ?? '', routes.workflows.dispatches, runs[1], runs[2], request);
  }
  if (installation?.[1] && method === 'GET' && routes.authority) return routes.authority.installation(installation[1], authorization);
  if (tokens?.[1] && method === 'POST' && routes.authority) {
    if (record.body !== null) checkBody('api.github.com', '/app/installations/{installation_id}/access_tokens', 'POST', record.body);
    return routes.authority.accessToken(Number(tokens[1]), authorization);
  }
  if (workflow?.[1] && workflow[2] && method === 'POST') return routes.workflows.handle(workflow[1], workflow[2], record.body, authorization);
  throw new Refusal(404, 'Not Found');
}

/** Answers a request (deployments, App, workflow dispatch), recording it; null leaves it hanging. */
function deploymentAnswerer(token: string, routes: Routes, requests: RecordedRequest[], rules: FailureRule[]) {
  return async (req: IncomingMessage, url: URL, raw: string): Promise<Answer | null> => {
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
      const form = formOf(raw, record.headers.contentType);
      // A form (the OAuth endpoints') is recorded as its fields, its credentials redacted: a failing test may print the record.
      record.body = /^application\/x-www-form-urlencoded\b/i.test(record.headers.contentType) ? redacted(form) : parseBody(raw);
      const rule = rules.find((r) => (!r.method || r.method === method) && (!r.path || r.path.test(url.pathname)) && (r.times ?? 1) > 0);
      if (rule) {
        if (rule.times !== undefined) rule.times -= 1;
        if (rule.status === 'hang') return null;
        record.status = rule.status;
        const message = rule.message ?? FAILURES[rule.status];
        return { status: rule.status, body: { message, documentation_url: 'https://docs.github.com/rest', status: String(rule.status) } };
      }
      const identity = identityRoute(routes.identity, method, url, record, form);
      if (identity) {
        record.headers.authorization = record.headers.authorization.replace(/^Basic\s+\S+$/i, 'Basic [redacted]');
        record.status = identity.status;
        return identity;
      }
      const app = await appRoute(routes, method, url, record);
      if (app) {
        record.status = app.status;
        return app;
      }
      checkHeaders(record, token);
      const answer = routes.store.route(method, url, record.body);
      record.status = answer.status;
      return answer;
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      record.status = error.status;
      record.refusal = error.message;
      return { status: error.status, body: error.body };
    }
  };
}

const CREDENTIALS = new Set(['client_secret', 'code', 'code_verifier', 'refresh_token']);

function redacted(form: URLSearchParams): Record<string, string> {
  return Object.fromEntries([...form].map(([name, value]) => [name, CREDENTIALS.has(name) ? '[redacted]' : value]));
}

function parseBody(raw: string): unknown {
  if (!raw) return null;
  try {
    return JSON.parse(raw);
  } catch {
    throw new Refusal(400, 'Problems parsing JSON');
  }
}
