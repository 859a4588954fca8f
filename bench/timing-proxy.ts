/**
 * A loopback proxy that records every request it carries (route, start, end): the engine-overhead
 * bench puts it in front of the relay and of the external system, so it can count relay requests
 * per step and tell the time a step waits on them from the action's own time.
 * Paths under EXTERNAL_PREFIX go to the external system (prefix removed), all others to the relay.
 * The relay builds callback URIs on the origin it was called at, so callbacks come through it too.
 */
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest } from 'node:http';

export const EXTERNAL_PREFIX = '/ext';

export interface ProxiedRequest {
  /** `POST /v1/gates`, `GET /v1/gates/:id`, `POST /cb/:token/callback`, `POST /ext/hooks/check`. */
  route: string;
  /** Whether it went to the relay (not the external system). */
  relay: boolean;
  started: number;
  ended: number;
}

export interface TimingProxy {
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

/** `/v1/gates/AbC…/decision?x` → `/v1/gates/:id/decision`: ids and tokens become placeholders. */
export function routeOf(method: string, url: string): string {
  const path = url.split('?')[0] ?? '';
  const segments = path.split('/').map((segment, index, all) => {
    if (all[index - 1] === 'cb' || all[index - 1] === 'approve') return ':token';
    return segment.length >= 12 || /%/.test(segment) ? ':id' : segment;
  });
  return `${method} ${segments.join('/')}`;
}

export async function startTimingProxy(relay: URL, external: URL): Promise<TimingProxy> {
  const requests: ProxiedRequest[] = [];
  const agent = new Agent({ keepAlive: true });
  const server = createServer((request, response) => {
    const started = performance.now();
    const url = request.url ?? '/';
    const toExternal = url.startsWith(`${EXTERNAL_PREFIX}/`);
    const target = toExternal ? external : relay;
    const path = toExternal ? url.slice(EXTERNAL_PREFIX.length) : url;
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: request.method, path, headers: request.headers, agent }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
      answer.on('end', () => requests.push({ route: routeOf(request.method ?? 'GET', url), relay: !toExternal, started, ended: performance.now() }));
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    async close() {
      server.closeAllConnections();
      server.close();
      agent.destroy();
    },
  };
}

/** Total time covered by at least one of `spans` (overlaps counted once), clipped to [from, to]. */
export function coveredMs(spans: readonly { started: number; ended: number }[], from: number, to: number): number {
  const sorted = spans
    .map((s) => ({ started: Math.max(from, s.started), ended: Math.min(to, s.ended) }))
    .filter((s) => s.ended > s.started)
    .sort((a, b) => a.started - b.started);
  let total = 0;
  let end = -Infinity;
  for (const span of sorted) {
    if (span.ended <= end) continue;
    total += span.ended - Math.max(span.started, end);
    end = span.ended;
  }
  return total;
}
