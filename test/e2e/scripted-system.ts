/**
 * An external system on 127.0.0.1 whose answers a test writes itself: each path answers what its
 * route returns (any status, any body), then runs the route's follow-up (callbacks) after the
 * answer is sent, as a real system does its work. scripts/external-system.ts behaves by query
 * string, which cannot spell a hostile body or a script of callbacks.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';

export interface Call {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface Answer {
  status: number;
  body: string;
  contentType?: string;
  /** Work after the answer, e.g. callbacks to the URI in the body; awaited by `close`. */
  then?: () => Promise<unknown>;
}

export interface ScriptedSystem {
  url: string;
  calls: Call[];
  close(): Promise<void>;
}

/** Starts the system; a path without a route answers 404. */
export async function startScriptedSystem(routes: Record<string, (call: Call) => Answer>): Promise<ScriptedSystem> {
  const calls: Call[] = [];
  const work = new Set<Promise<unknown>>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
      const call = { path, headers, body: Buffer.concat(chunks).toString('utf8') };
      calls.push(call);
      const answer = routes[path]?.(call) ?? { status: 404, body: 'no such route' };
      response.writeHead(answer.status, { 'content-type': answer.contentType ?? 'text/plain' }).end(answer.body, () => {
        if (!answer.then) return;
        const done = answer.then().catch((error: unknown) => console.error(`scripted system: ${path}: ${String(error)}`));
        work.add(done);
        void done.finally(() => work.delete(done));
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    calls,
    async close() {
      await Promise.allSettled([...work]);
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The `callbackUri` a webhook body carries (the deployment files here put it there). */
export function callbackUriIn(call: Call): string {
  const uri = (JSON.parse(call.body) as { callbackUri?: unknown }).callbackUri;
  if (typeof uri !== 'string') throw new Error(`no callbackUri in ${call.body}`);
  return uri;
}

/** POSTs a callback body; the relay's status and JSON answer. */
export async function postCallback(uri: string, body: unknown): Promise<{ status: number; answer: unknown; headers: Headers }> {
  const response = await fetch(uri, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, answer: await response.json().catch(() => null), headers: response.headers };
}
