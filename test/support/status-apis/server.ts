/** A local HTTP server on 127.0.0.1 for the status-API stand-ins: requests recorded, answers from a handler. */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Larger request bodies are refused (413), as every real API does at some size. */
const MAX_REQUEST_BYTES = 1024 * 1024;

export interface Received {
  method: string;
  /** Without the query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the stand-in answered. */
  status: number;
}

export interface Reply {
  status: number;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as it is (an HTML error page). */
  text?: string;
  headers?: Record<string, string>;
}

export interface StandIn {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  requests: Received[];
  close(): Promise<void>;
}

/** Serves `handle` (given the request and the server's own URL) until close(). */
export async function serve(handle: (request: Received, base: string) => Reply): Promise<StandIn> {
  const requests: Received[] = [];
  let base = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const request: Received = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status: 0 };
      let reply: Reply;
      try {
        reply = size > MAX_REQUEST_BYTES ? { status: 413, text: 'Request Entity Too Large' } : handle(request, base);
      } catch (error) {
        reply = { status: 500, text: error instanceof Error ? error.message : String(error) };
      }
      request.status = reply.status;
      requests.push(request);
      const headers: Record<string, string> = { ...reply.headers };
      let body = '';
      if (reply.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(reply.json);
      } else if (reply.text !== undefined) {
        headers['content-type'] ??= 'text/html; charset=utf-8';
        body = reply.text;
      }
      res.writeHead(reply.status, headers);
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // The action's keep-alive connections would hold the close for seconds.
        server.closeAllConnections();
      }),
  };
}

/** A JSON request body as an object; null when it is empty or not a JSON object. */
export function jsonObject(text: string): Record<string, unknown> | null {
  if (text.trim() === '') return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The bearer token of an `Authorization` header, or ''. */
export function bearer(headers: IncomingHttpHeaders): string {
  return /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1] ?? '';
}
