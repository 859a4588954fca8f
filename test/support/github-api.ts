/**
 * A local stand-in for GitHub's REST API on 127.0.0.1, as far as hookgate's
 * examples use it: `POST /repos/{owner}/{repo}/dispatches` (repository_dispatch).
 * Like GitHub it checks the token and the body and answers 204; then it "runs"
 * the dispatched workflow, which calls back to `client_payload.callbackUri` with
 * a bearer token, as a workflow step with curl would.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';

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

export interface FakeGitHub {
  url: string;
  /** The token a request must present (`Authorization: Bearer …` or `token …`). */
  token: string;
  dispatches: Dispatch[];
  /** The request bodies of the dispatches, exactly as they arrived. */
  rawBodies: string[];
  callbacks: WorkflowCallback[];
  /** Resolves when `count` workflow callbacks have been answered. */
  waitForCallbacks(count: number, timeoutMs?: number): Promise<WorkflowCallback[]>;
  close(): Promise<void>;
}

/**
 * Starts the fake. The dispatched "workflow" decides by `client_payload.decision`
 * (`success` unless `failure`) after `client_payload.delayMs` (default 50).
 */
export async function startFakeGitHub(token: string): Promise<FakeGitHub> {
  const dispatches: Dispatch[] = [];
  const rawBodies: string[] = [];
  const callbacks: WorkflowCallback[] = [];
  const running = new Set<Promise<void>>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, body?: unknown): void => {
        res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
        res.end(body === undefined ? undefined : JSON.stringify(body));
      };
      const match = /^\/repos\/([^/]+\/[^/]+)\/dispatches$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !match?.[1]) return reply(404, { message: 'Not Found' });
      const auth = /^(?:Bearer|token)\s+(.+)$/i.exec(req.headers.authorization ?? '');
      if (auth?.[1] !== token) return reply(401, { message: 'Bad credentials' });
      let body: { event_type?: unknown; client_payload?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        return reply(400, { message: 'Problems parsing JSON' });
      }
      if (typeof body.event_type !== 'string' || body.event_type.length === 0 || body.event_type.length > 100) {
        return reply(422, { message: 'Invalid request: event_type' });
      }
      const payload = body.client_payload ?? {};
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload) || Object.keys(payload).length > 10) {
        return reply(422, { message: 'Invalid request: client_payload' });
      }
      const clientPayload = payload as Record<string, unknown>;
      dispatches.push({ repository: match[1], eventType: body.event_type, clientPayload });
      rawBodies.push(Buffer.concat(chunks).toString('utf8'));
      reply(204);
      const job = runWorkflow(clientPayload).finally(() => running.delete(job));
      running.add(job);
    });
  });

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

  return {
    url: `http://127.0.0.1:${address.port}`,
    token,
    dispatches,
    rawBodies,
    callbacks,
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
