/**
 * `npm run bench`: starts the local relay (wrangler dev on workerd, state in a
 * temp dir) and a trivial Worker beside it, measures wake latency, callback
 * throughput, cold start, the cost of waiting, the engine's overhead and park and
 * resume (a second relay with a GitHub App: bench/park-dispatch.ts), prints
 * a table and writes BENCHMARKS.md. Everything it starts is stopped at the end,
 * on failure and on Ctrl-C.
 *
 * HOOKGATE_BENCH_FULL=1 adds 1,000 gates spread over 1,250 runs to the wake
 * latency (about a minute more: every run is a Durable Object to create).
 * `node bench/run.ts --render` rewrites BENCHMARKS.md from the run it records
 * (after editing bench/NOTES.md or the report's layout), measuring nothing.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startLocalRelay } from '../scripts/local-relay.ts';
import { measureCallbackThroughput, measureRoundTrip } from './callback-throughput.ts';
import { measureColdStart, measureDistSize } from './cold-start.ts';
import { measureCostPerHour } from './cost-per-hour.ts';
import { measureEngineOverhead } from './engine-overhead.ts';
import { startTrivialWorker } from './local-worker.ts';
import { machine, watchBackgroundLoad } from './machine.ts';
import { cleanupAll, cleanupOnSignals, onCleanup } from './processes.ts';
import { markdownReport } from './markdown-report.ts';
import { measurePark } from './park-dispatch.ts';
import { previousHeadline, recordedResults, textReport } from './report.ts';
import type { BenchResults } from './report.ts';
import { FULL_WAKE_PLAN, WAKE_PLAN, measureWakeLatency } from './wake-latency.ts';

const started = performance.now();
const say = (line: string): void => console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);

async function main(): Promise<void> {
  cleanupOnSignals();
  const load = watchBackgroundLoad();
  const info = machine();
  const date = new Date().toISOString();
  say(`machine: ${info.cpu} ×${info.cores}; starting the relay and the trivial Worker`);

  const relayState = await mkdtemp(join(tmpdir(), 'hookgate-bench-relay-'));
  const trivialState = await mkdtemp(join(tmpdir(), 'hookgate-bench-trivial-'));
  onCleanup(() => rm(relayState, { recursive: true, force: true }));
  onCleanup(() => rm(trivialState, { recursive: true, force: true }));
  // One after the other: two wrangler dev starting at once can race for the same inspector port.
  const relay = await startLocalRelay({ stateDir: relayState });
  onCleanup(() => relay.stop());
  const trivial = await startTrivialWorker(trivialState);
  onCleanup(() => trivial.stop());
  say(`relay on ${relay.url}, trivial Worker on ${trivial.url}`);
  const target = { url: relay.url, token: relay.relayToken, port: relay.port };

  const roundTrip = await measureRoundTrip(relay.url, trivial.url);
  say(`one request through wrangler dev: trivial Worker p50 ${roundTrip.trivial.p50.toFixed(1)} ms, relay /healthz p50 ${roundTrip.relayHealth.p50.toFixed(1)} ms`);

  const plan = process.env.HOOKGATE_BENCH_FULL === '1' ? FULL_WAKE_PLAN : WAKE_PLAN;
  const wake = await measureWakeLatency(target, plan, say);
  const throughput = await measureCallbackThroughput(target, trivial, {}, say);
  say('engine overhead: 50-step deployments through dist/index.js');
  const engine = await measureEngineOverhead({ url: relay.url, token: relay.relayToken });
  say(`engine overhead: ${engine.perStepMs.toFixed(1)} ms per step`);

  // The relay is otherwise idle now: the two waiting gates make a few requests a minute,
  // and the cold start, which does not touch the relay, runs meanwhile.
  say('cost of waiting: two gates wait for a minute (long-poll and 10 s poller); cold start meanwhile');
  const costRun = measureCostPerHour(target, 1);
  costRun.catch(() => undefined);
  const coldStart = await measureColdStart();
  say(`cold start: p50 ${coldStart.action.p50.toFixed(1)} ms`);
  const dist = await measureDistSize();
  const cost = await costRun;
  say(`cost of waiting: ${cost.longPoll.perHour.requests} long-polls/h, ${cost.poller.perHour.requests} polls/h`);
  // Last: a relay of its own, with a GitHub App, started once the first is idle.
  say('park and resume: a relay with a GitHub App and a fake GitHub; decisions → dispatches, then a parked job');
  const park = await measurePark(say);

  await cleanupAll();
  const results: BenchResults = {
    date,
    command: 'npm run bench',
    seconds: (performance.now() - started) / 1000,
    machine: info,
    load: load.stop(),
    roundTrip,
    wake,
    throughput,
    coldStart,
    dist,
    cost,
    engine,
    park,
  };
  const benchmarksPath = join(ROOT, 'BENCHMARKS.md');
  const previous = previousHeadline(await readFile(benchmarksPath, 'utf8').catch(() => null));
  const notes = await readFile(join(ROOT, 'bench', 'NOTES.md'), 'utf8').catch(() => '');
  console.log(textReport(results, previous));
  await writeFile(benchmarksPath, markdownReport(results, previous, notes));
  say('wrote BENCHMARKS.md');
}

/** Rewrites BENCHMARKS.md from the results it records, with the current notes. */
async function render(): Promise<void> {
  const path = join(ROOT, 'BENCHMARKS.md');
  const recorded = recordedResults(await readFile(path, 'utf8').catch(() => null));
  if (!recorded) throw new Error('BENCHMARKS.md records no results to render; run `npm run bench`');
  const notes = await readFile(join(ROOT, 'bench', 'NOTES.md'), 'utf8').catch(() => '');
  await writeFile(path, markdownReport(recorded.results, recorded.previous, notes));
  console.log(textReport(recorded.results, recorded.previous));
}

try {
  await (process.argv.includes('--render') ? render() : main());
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
  // A failed run may leave the background wait's timers behind: do not wait for them.
  if (process.exitCode === 1) process.exit(1);
}
