/**
 * Callback throughput: how many callbacks per second the relay accepts while at
 * least 1,000 gates wait, beside the trivial Worker under the same wrangler dev
 * and workerd, with the same number of requests in flight.
 *
 * The callbacks decide gates that are themselves waited on (the normal case: a
 * decision wakes a long-poll), so the relay registers 1,000 + P gates in one run
 * and P of them are decided; at least 1,000 wait throughout. The waiters are the
 * action's RelayClient.poll with the relay's longest window (30 s), and the
 * measurement ends inside it: no re-poll falls into it (the bench checks).
 */
import { settle, workerdCpuReader } from './processes.ts';
import { actionClient, cancelRuns, registerGates, runIdsFor } from './relay-gates.ts';
import type { BenchGate, RelayTarget } from './relay-gates.ts';
import { distribution } from './stats.ts';
import type { Distribution } from './stats.ts';

export const IN_FLIGHT = 48;
/** The relay's longest long-poll window, in seconds (MAX_WAIT_SECONDS). */
const WINDOW_SECONDS = 30;

export interface Throughput {
  requests: number;
  seconds: number;
  perSecond: number;
  /** CPU milliseconds the workerd processes spent per request. */
  workerdCpuMsPerRequest: number;
  /** Answers other than the expected status. */
  errors: number;
}

export interface ThroughputResult {
  waiting: number;
  inFlight: number;
  relay: Throughput;
  trivial: Throughput;
  ratio: number;
  /** Long-polls that came back before the end of the relay's measurement (should be 0). */
  earlyPolls: number;
}

export interface RoundTrip {
  trivial: Distribution;
  relayHealth: Distribution;
}

/** The floor of one request through wrangler dev: sequential GETs of the trivial Worker and the relay's /healthz. */
export async function measureRoundTrip(relayUrl: string, trivialUrl: string, count = 40): Promise<RoundTrip> {
  const time = async (url: string): Promise<Distribution> => {
    const samples: number[] = [];
    for (let i = 0; i < count + 5; i++) {
      const started = performance.now();
      const response = await fetch(url);
      await response.arrayBuffer();
      if (i >= 5) samples.push(performance.now() - started);
    }
    return distribution(samples);
  };
  return { trivial: await time(trivialUrl), relayHealth: await time(`${relayUrl}/healthz`) };
}

/** Sends `urls.length` POSTs with `inFlight` at once; counts those answered `expected`. */
async function blast(urls: readonly string[], inFlight: number, expected: number, port: number): Promise<Throughput> {
  const cpu = workerdCpuReader(port);
  const cpuBefore = cpu();
  const started = performance.now();
  let next = 0;
  let errors = 0;
  const body = JSON.stringify({ success: true, mdMessage: 'bench' });
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < urls.length) {
        const url = urls[next++] as string;
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await response.arrayBuffer();
        if (response.status !== expected) errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    requests: urls.length,
    seconds,
    perSecond: urls.length / seconds,
    workerdCpuMsPerRequest: (cpu() - cpuBefore) / urls.length,
    errors,
  };
}

export async function measureCallbackThroughput(
  relay: RelayTarget & { port: number },
  trivial: { url: string; port: number },
  options: { waiting?: number; callbacks?: number; inFlight?: number } = {},
  progress: (line: string) => void = () => undefined,
): Promise<ThroughputResult> {
  const waiting = options.waiting ?? 1000;
  const callbacks = options.callbacks ?? 600;
  const inFlight = options.inFlight ?? IN_FLIGHT;
  const client = actionClient(relay);
  const runIds = runIdsFor('one-run', waiting + callbacks, 'throughput');
  const gates: BenchGate[] = await registerGates(relay, runIds, 'throughput');
  progress(`callback throughput: ${gates.length} gates registered; ${gates.length} long-polls starting`);

  const controller = new AbortController();
  // Polls of the gates that stay undecided: any return before the end is a window ending.
  let returned = 0;
  let stillWaitingReturned = 0;
  gates.forEach((gate, index) => {
    client
      .poll(gate.view.runId, gate.view.gateId, WINDOW_SECONDS, controller.signal)
      .then(() => {
        returned++;
        if (index < waiting) stillWaitingReturned++;
      })
      .catch(() => undefined);
  });
  let relayResult: Throughput;
  let earlyPolls: number;
  try {
    // Every long-poll connected and workerd idle: they all wait in the Durable Object.
    await settle(relay.port, gates.length, 60_000);
    if (returned > 0) throw new Error(`${returned} long-polls returned before any callback`);
    const decided = gates.slice(waiting).map((gate) => `${gate.callbackUri}/callback`);
    relayResult = await blast(decided, inFlight, 200, relay.port);
    earlyPolls = stillWaitingReturned;
  } finally {
    controller.abort();
    await cancelRuns(client, runIds);
  }
  progress(`callback throughput: relay ${relayResult.perSecond.toFixed(0)} callbacks/s`);

  // The trivial Worker: the same number of POSTs of the same body, as many in flight.
  const trivialUrls = Array.from({ length: callbacks }, (_, i) => `${trivial.url}/cb/${i}/callback`);
  const trivialResult = await blast(trivialUrls, inFlight, 200, trivial.port);
  progress(`callback throughput: trivial Worker ${trivialResult.perSecond.toFixed(0)} requests/s`);
  return {
    waiting,
    inFlight,
    relay: relayResult,
    trivial: trivialResult,
    ratio: relayResult.perSecond / trivialResult.perSecond,
    earlyPolls,
  };
}
