/**
 * A simulated external system on 127.0.0.1, behaving as real ones do: it accepts
 * the webhook with 202, works for a while, then POSTs its decision to the
 * callback URI it was given. The webhook URL's query says how it behaves:
 *
 * - `decision=success|failure|none` (none: never calls back), `message=…`;
 *   `failEnv=X`: failure when `env=X`, with `failMessage=…`
 * - `delayMs=N` before the callback
 * - `instant=1`: the callback is sent before the webhook call is even answered
 * - `repeat=N`: the same decision N times; `conflict=1`: then the opposite one
 * - `progress=…`: an interim report before the decision
 * - `status=N` answers the webhook with N; `failTimes=N`: the first N calls get 503
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface ReceivedWebhook {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

export interface SentCallback {
  uri: string;
  body: unknown;
  status: number;
  answer: unknown;
}

export interface ExternalSystem {
  url: string;
  webhooks: ReceivedWebhook[];
  callbacks: SentCallback[];
  /** Called for every event, for a demo's story. */
  onEvent?: (line: string) => void;
  /** Resolves when `count` callbacks have been answered. */
  waitForCallbacks(count: number, timeoutMs?: number): Promise<SentCallback[]>;
  close(): Promise<void>;
}

/** Starts the simulated system on a free port. */
export async function startExternalSystem(): Promise<ExternalSystem> {
  const webhooks: ReceivedWebhook[] = [];
  const callbacks: SentCallback[] = [];
  const pending = new Set<Promise<void>>();
  const system: ExternalSystem = {
    url: '',
    webhooks,
    callbacks,
    async waitForCallbacks(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (callbacks.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${callbacks.length} of ${count} callbacks within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return callbacks;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await Promise.allSettled([...pending]);
    },
  };
  const answer = webhookAnswerer(system, (work) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  });
  const server = createServer((request, response) => void answer(request, response));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  system.url = `http://127.0.0.1:${address.port}`;
  return system;
}

/** Answers each webhook call as the query says, starting the work that ends in a callback (handed to `track`). */
function webhookAnswerer(system: ExternalSystem, track: (work: Promise<void>) => void): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  const callsByPath = new Map<string, number>();
  const tell = (line: string): void => system.onEvent?.(line);
  return async (request, response) => {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams);
    system.webhooks.push({ method: request.method ?? '', path: url.pathname, query, headers: headersOf(request), body });
    tell(`external system: ${request.method} ${url.pathname} received`);

    const calls = (callsByPath.get(url.pathname) ?? 0) + 1;
    callsByPath.set(url.pathname, calls);
    if (calls <= Number(query.failTimes ?? '0')) {
      response.writeHead(503).end('busy, try again');
      return;
    }
    const status = Number(query.status ?? '202');
    const callbackUri = callbackUriOf(body);
    if (status >= 300 || !callbackUri) {
      response.writeHead(status, { 'content-type': 'application/json' }).end('{"accepted":false}');
      return;
    }
    const work = behave(system, query, callbackUri).catch((error: unknown) => tell(`external system: callback failed: ${String(error)}`));
    track(work);
    if (query.instant) await work;
    response.writeHead(status, { 'content-type': 'application/json' }).end('{"accepted":true}');
  };
}

/** The work behind one webhook call: wait, maybe report progress, then call back with the decision the query names. */
async function behave(system: ExternalSystem, query: Record<string, string>, callbackUri: string): Promise<void> {
  const delay = Number(query.delayMs ?? '0');
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  if (query.progress) await postCallback(system, callbackUri, { progress: true, mdMessage: query.progress });
  const decision = query.failEnv && query.failEnv === query.env ? 'failure' : (query.decision ?? 'success');
  if (decision === 'none') return;
  const success = decision === 'success';
  const message = success ? query.message : (query.failMessage ?? query.message);
  const body = { success, mdMessage: message ?? (success ? 'All checks passed' : 'Checks failed') };
  for (let i = 0; i < Number(query.repeat ?? '1'); i++) await postCallback(system, callbackUri, body);
  if (query.conflict) await postCallback(system, callbackUri, { success: !success, mdMessage: 'changed my mind' });
}

async function postCallback(system: ExternalSystem, uri: string, body: unknown): Promise<void> {
  const response = await fetch(uri, {
    method: 'POST',
    // Armory clients send a token too; the relay accepts and ignores it.
    headers: { 'content-type': 'application/json', authorization: 'Bearer external-system-token' },
    body: JSON.stringify(body),
  });
  const answer: unknown = await response.json().catch(() => null);
  system.callbacks.push({ uri, body, status: response.status, answer });
  system.onEvent?.(`external system: callback ${JSON.stringify(body)} → relay answered ${response.status}`);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) if (typeof value === 'string') headers[key] = value;
  return headers;
}

/** The callback URI from a JSON body (`callbackUri`), as the deployment file's bodyTemplate put it. */
function callbackUriOf(body: string): string | null {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'callbackUri' in parsed && typeof parsed.callbackUri === 'string') {
      return parsed.callbackUri;
    }
  } catch {
    // not JSON: no callback
  }
  return null;
}
