/**
 * The fake's HTTP server: routes to repository_dispatch (dispatch.ts) or the deployment
 * endpoints (deployments.ts), records every deployment request with what it answered, and
 * plays the failures a test scripts.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { DISPATCH_PATH, dispatchEndpoint } from './dispatch.ts';
import { deploymentStore } from './deployments.ts';
import type { DeploymentStore } from './deployments.ts';
import { checkHeaders } from './request-check.ts';
import { Refusal } from './types.ts';
import type { Answer, FailureRule, FakeGitHub, RecordedRequest } from './types.ts';

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
  let base = '';
  const dispatch = dispatchEndpoint(token);
  const store = deploymentStore(() => base);
  const requests: RecordedRequest[] = [];
  const rules: FailureRule[] = [];
  const answerDeployment = deploymentAnswerer(token, store, requests, rules);

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://fake');
      const answer = DISPATCH_PATH.test(url.pathname) ? dispatch.handle(req, raw) : answerDeployment(req, url, raw);
      if (!answer) return; // a scripted hang
      const { status, body, headers = {} } = answer;
      res.writeHead(status, body === undefined ? headers : { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
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
    fail: (rule) => void rules.push({ ...rule }),
    seedDeployment: (fields) => store.seed(fields),
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

/** Answers a deployment request, recording it; null leaves it hanging. */
function deploymentAnswerer(token: string, store: DeploymentStore, requests: RecordedRequest[], rules: FailureRule[]) {
  return (req: IncomingMessage, url: URL, raw: string): Answer | null => {
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
      record.body = parseBody(raw);
      checkHeaders(record, token);
      const rule = rules.find((r) => (!r.method || r.method === method) && (!r.path || r.path.test(url.pathname)) && (r.times ?? 1) > 0);
      if (rule) {
        if (rule.times !== undefined) rule.times -= 1;
        if (rule.status === 'hang') return null;
        record.status = rule.status;
        return { status: rule.status, body: { message: FAILURES[rule.status], documentation_url: 'https://docs.github.com/rest', status: String(rule.status) } };
      }
      const answer = store.route(method, url, record.body);
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

function parseBody(raw: string): unknown {
  if (!raw) return null;
  try {
    return JSON.parse(raw);
  } catch {
    throw new Refusal(400, 'Problems parsing JSON');
  }
}
