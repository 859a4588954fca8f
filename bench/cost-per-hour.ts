/**
 * Cost of waiting: one gate waited on by the action's own client (long-polls),
 * one by a client that polls every 10 s with wait=0 (what common approval
 * actions do), both for the same hold time, both through a loopback proxy that
 * counts each request to the relay and how long the relay held it open. Both
 * gates are then decided at the same moment.
 *
 * The action's client asks for 25 s windows but cuts one short so it logs once a
 * minute (25 + 25 + 10 s), and the poller asks every 10 s: both repeat each
 * minute, so the counts are taken over whole minutes from each client's first
 * request and scaled to an hour.
 */
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { Server } from 'node:http';
import { waitForDecision } from '../action/clients/relay.ts';
import { actionClient, registerGates, runIdsFor, sendCallback } from './relay-gates.ts';
import type { RelayTarget } from './relay-gates.ts';
import { sleep } from './stats.ts';

export const POLLER_INTERVAL_SECONDS = 10;

export interface WaitCost {
  /** Requests to the relay (GET /v1/gates/:id) started within the counted minutes. */
  requests: number;
  /** Seconds the relay held requests open within the counted minutes, summed. */
  heldSeconds: number;
  /** Decision sent → the client saw it, in ms. */
  seenAfterMs: number;
  perHour: { requests: number; heldSeconds: number };
}

export interface CostResult {
  /** The counted span: whole minutes from each client's first request. */
  countedSeconds: number;
  longPoll: WaitCost;
  poller: WaitCost;
}

interface Recorded {
  gateId: string;
  started: number;
  ended: number;
}

/** A loopback proxy in front of the relay: forwards everything, records GETs of gates. */
async function countingProxy(target: URL): Promise<{ url: string; recorded: Recorded[]; server: Server; agent: Agent }> {
  const recorded: Recorded[] = [];
  const agent = new Agent({ keepAlive: true });
  const server = createServer((request, response) => {
    const started = performance.now();
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers, agent },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
        answer.on('end', () => {
          const gate = /^\/v1\/gates\/([^/?]+)/.exec(request.url ?? '');
          if (request.method === 'GET' && gate?.[1]) recorded.push({ gateId: gate[1], started, ended: performance.now() });
        });
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${address.port}`, recorded, server, agent };
}

/** Waits on two gates for `minutes` (+5 s), long-poll and 10 s poller side by side; then decides both. */
export async function measureCostPerHour(relay: RelayTarget, minutes = 2): Promise<CostResult> {
  const countedSeconds = minutes * 60;
  const proxy = await countingProxy(new URL(relay.url));
  const viaProxy: RelayTarget = { url: proxy.url, token: relay.token };
  const controller = new AbortController();
  try {
    const [longGate, pollGate] = await registerGates(viaProxy, runIdsFor('runs', 2, 'cost'), 'cost');
    if (!longGate || !pollGate) throw new Error('no gates');
    const client = actionClient(viaProxy);

    let longSeenAt = 0;
    const longDone = waitForDecision(client, longGate.view, { signal: controller.signal }).then((view) => {
      longSeenAt = performance.now();
      return view;
    });

    let pollSeenAt = 0;
    const pollDone = (async () => {
      for (;;) {
        const view = await client.poll(pollGate.view.runId, pollGate.view.gateId, 0, controller.signal);
        if (view.state !== 'pending') {
          pollSeenAt = performance.now();
          return view;
        }
        await sleep(POLLER_INTERVAL_SECONDS * 1000);
      }
    })();

    await sleep((countedSeconds + 5) * 1000);
    const decidedAt = performance.now();
    await Promise.all([sendCallback(longGate.callbackUri), sendCallback(pollGate.callbackUri)]);
    await Promise.all([longDone, pollDone]);

    const cost = (gateId: string, seenAt: number): WaitCost => {
      const mine = proxy.recorded.filter((r) => r.gateId === gateId);
      const from = Math.min(...mine.map((r) => r.started));
      const to = from + countedSeconds * 1000;
      const counted = mine.filter((r) => r.started < to);
      const heldMs = counted.reduce((sum, r) => sum + Math.max(0, Math.min(r.ended, to) - r.started), 0);
      const scale = 3600 / countedSeconds;
      return {
        requests: counted.length,
        heldSeconds: heldMs / 1000,
        seenAfterMs: seenAt - decidedAt,
        perHour: { requests: counted.length * scale, heldSeconds: (heldMs / 1000) * scale },
      };
    };
    return {
      countedSeconds,
      longPoll: cost(longGate.view.gateId, longSeenAt),
      poller: cost(pollGate.view.gateId, pollSeenAt),
    };
  } finally {
    controller.abort();
    proxy.server.closeAllConnections();
    proxy.server.close();
    proxy.agent.destroy();
  }
}
