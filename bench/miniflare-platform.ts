/**
 * Closer to production (issue 14): the wake-latency and throughput tables again, with the relay and
 * the trivial Worker under Miniflare's API directly (bench/miniflare-relay.ts): the same workerd
 * and SQLite Durable Objects, without the proxy Worker `wrangler dev` puts in front of each.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureCallbackThroughput, measureRoundTrip } from './callback-throughput.ts';
import type { RoundTrip, ThroughputResult } from './callback-throughput.ts';
import { measureEngineOverhead } from './engine-overhead.ts';
import type { EngineOverhead } from './engine-overhead.ts';
import { startMiniflareRelay, startMiniflareTrivial } from './miniflare-relay.ts';
import { measurePageRequest } from './page-request.ts';
import type { PageRequest } from './page-request.ts';
import { onCleanup } from './processes.ts';
import { measureWakeLatency } from './wake-latency.ts';
import type { WakePlan, WakeRow } from './wake-latency.ts';

export interface MiniflareResults {
  /** The relay bundle `wrangler deploy --dry-run` wrote, bytes. */
  bundleBytes: number;
  roundTrip: RoundTrip;
  wake: WakeRow[];
  throughput: ThroughputResult;
  /** The engine-overhead deployment against this relay (its split: the relay's share shrinks, the action's own stays). */
  engine?: EngineOverhead;
  /** The largest approval page as served by this relay (bench/page-request.ts). */
  page?: PageRequest;
}

export interface MiniflareSizes {
  plan: readonly WakePlan[];
  waiting?: number;
  callbacks?: number;
  engineSteps?: number;
}

/** Starts both Workers under Miniflare, measures, stops them (also on failure: the bench's cleanup). */
export async function measureOnMiniflare(sizes: MiniflareSizes, say: (line: string) => void): Promise<MiniflareResults> {
  const relayState = await mkdtemp(join(tmpdir(), 'hookgate-bench-mf-relay-'));
  const trivialState = await mkdtemp(join(tmpdir(), 'hookgate-bench-mf-trivial-'));
  onCleanup(() => rm(relayState, { recursive: true, force: true }));
  onCleanup(() => rm(trivialState, { recursive: true, force: true }));
  const relay = await startMiniflareRelay(relayState);
  onCleanup(() => relay.stop());
  const trivial = await startMiniflareTrivial(trivialState);
  onCleanup(() => trivial.stop());
  say(`Miniflare: relay on ${relay.url} (bundle ${(relay.bundleBytes / 1000).toFixed(0)} KB), trivial Worker on ${trivial.url}`);
  const target = { url: relay.url, token: relay.relayToken, port: relay.port };
  const roundTrip = await measureRoundTrip(relay.url, trivial.url);
  say(`Miniflare: one request, trivial Worker p50 ${roundTrip.trivial.p50.toFixed(1)} ms, relay /healthz p50 ${roundTrip.relayHealth.p50.toFixed(1)} ms`);
  const wake = await measureWakeLatency(target, sizes.plan, (line) => say(`Miniflare: ${line}`));
  const throughput = await measureCallbackThroughput(
    target,
    trivial,
    { ...(sizes.waiting === undefined ? {} : { waiting: sizes.waiting }), ...(sizes.callbacks === undefined ? {} : { callbacks: sizes.callbacks }) },
    (line) => say(`Miniflare: ${line}`),
  );
  await trivial.stop();
  const engine = await measureEngineOverhead({ url: relay.url, token: relay.relayToken }, sizes.engineSteps);
  say(`Miniflare: engine overhead ${engine.marginalPerStepMs.toFixed(1)} ms per further step`);
  const page = await measurePageRequest(target);
  say(`Miniflare: the largest approval page as served, ${page.warmCpuMs.p50.toFixed(0)} ms of workerd CPU warm, ${page.firstCpuMs} ms the first time`);
  await relay.stop();
  return { bundleBytes: relay.bundleBytes, roundTrip, wake, throughput, engine, page };
}
