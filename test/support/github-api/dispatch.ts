/**
 * `POST /repos/{owner}/{repo}/dispatches` (repository_dispatch, the examples' webhook): checked
 * like GitHub's and answered 204; then the dispatched "workflow" runs and calls back to
 * `client_payload.callbackUri` with a bearer token, as a workflow step with curl would.
 */
import type { IncomingMessage } from 'node:http';
import type { Answer, Dispatch, WorkflowCallback } from './types.ts';

export const DISPATCH_PATH = /^\/repos\/([^/]+\/[^/]+)\/dispatches$/;

export interface DispatchEndpoint {
  dispatches: Dispatch[];
  rawBodies: string[];
  callbacks: WorkflowCallback[];
  handle(req: IncomingMessage, raw: string): Answer;
  /** Waits for the workflows still running. */
  settle(): Promise<void>;
}

/**
 * The endpoint. The dispatched workflow decides by `client_payload.decision`
 * (`success` unless `failure`) after `client_payload.delayMs` (default 50).
 */
export function dispatchEndpoint(token: string): DispatchEndpoint {
  const running = new Set<Promise<void>>();
  const endpoint: DispatchEndpoint = {
    dispatches: [],
    rawBodies: [],
    callbacks: [],
    handle(req, raw) {
      const match = DISPATCH_PATH.exec(req.url ?? '');
      if (req.method !== 'POST' || !match?.[1]) return { status: 404, body: { message: 'Not Found' } };
      const auth = /^(?:Bearer|token)\s+(.+)$/i.exec(req.headers.authorization ?? '');
      if (auth?.[1] !== token) return { status: 401, body: { message: 'Bad credentials' } };
      let body: { event_type?: unknown; client_payload?: unknown };
      try {
        body = JSON.parse(raw) as typeof body;
      } catch {
        return { status: 400, body: { message: 'Problems parsing JSON' } };
      }
      if (typeof body.event_type !== 'string' || body.event_type.length === 0 || body.event_type.length > 100) {
        return { status: 422, body: { message: 'Invalid request: event_type' } };
      }
      const payload = body.client_payload ?? {};
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload) || Object.keys(payload).length > 10) {
        return { status: 422, body: { message: 'Invalid request: client_payload' } };
      }
      const clientPayload = payload as Record<string, unknown>;
      endpoint.dispatches.push({ repository: match[1], eventType: body.event_type, clientPayload });
      endpoint.rawBodies.push(raw);
      // The workflow waits `delayMs` first: the 204 is answered before it calls back.
      const job: Promise<void> = runWorkflow(clientPayload).finally(() => running.delete(job));
      running.add(job);
      return { status: 204 };
    },
    async settle() {
      await Promise.allSettled([...running]);
    },
  };

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
    endpoint.callbacks.push({ uri, status: res.status, authorization });
  }
  return endpoint;
}
