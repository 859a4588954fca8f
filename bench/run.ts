/**
 * `npm run bench`: starts the local relay (wrangler dev on workerd, state in a
 * temp dir) and a trivial Worker beside it, measures wake latency, callback
 * throughput, cold start, the cost of waiting, the engine's overhead and park and
 * resume (a second relay with a GitHub App: bench/park-dispatch.ts); then, with
 * those stopped, the wake latency, throughput and engine overhead again with the
 * relay under Miniflare directly (bench/miniflare-platform.ts) and the approval
 * page's render CPU in workerd (bench/page-render.ts). Prints a table and writes
 * BENCHMARKS.md, keeping its chaos section (`npm run chaos`), but only from a quiet
 * run: when other processes used the machine (bench/machine.ts QUIET_OTHERS_CORES)
 * the report goes to a temp file instead, unless HOOKGATE_BENCH_RECORD_BUSY=1.
 * Everything it starts is stopped at the end, on failure and on Ctrl-C.
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
import { chaosBlock } from './chaos/section.ts';
import { QUIET_OTHERS_CORES, isQuiet, machine, watchBackgroundLoad } from './machine.ts';
import { measureOnMiniflare } from './miniflare-platform.ts';
import { measurePageRender } from './page-render.ts';
import { sleep } from './stats.ts';
import { cleanupAll, cleanupOnSignals, onCleanup } from './processes.ts';
import { markdownReport } from './markdown-report.ts';
import { measurePark } from './park-dispatch.ts';
import { previousHeadline, recordedResults, textReport } from './report.ts';
import type { BenchResults } from './report.ts';
import { FULL_WAKE_PLAN, WAKE_PLAN, measureWakeLatency } from './wake-latency.ts';

const started = performance.now();
const say = (line: string): void => console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);

/** A few seconds of the machine before starting: a busy one is said so at once, not only at the end. */
async function loadBeforeStart(): Promise<void> {
  const before = watchBackgroundLoad();
  await sleep(3000);
  const seen = before.stop();
  if (isQuiet(seen)) return;
  const busiest = seen.top.map((p) => `${p.command} ${p.cpuSeconds.toFixed(1)} s`).join(', ');
  say(`the machine is BUSY: other processes used ${seen.othersCores.toFixed(2)} cores (over ${QUIET_OTHERS_CORES}; ${busiest}); the figures will be inflated`);
}

async function main(): Promise<void> {
  cleanupOnSignals();
  await loadBeforeStart();
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
  // The wrangler dev relay and trivial Worker are done: stopped before the Miniflare ones start.
  await trivial.stop();
  await relay.stop();
  say('closer to production: the relay and the trivial Worker under Miniflare directly');
  const miniflare = await measureOnMiniflare({ plan }, say);
  say('approval page: the largest page\'s render CPU in workerd');
  const pageRender = await measurePageRender();
  say(`approval page: ${pageRender.warmCpuMs.p50.toFixed(1)} ms warm, ${pageRender.coldCpuMs.p50.toFixed(0)} ms first render in a fresh isolate`);

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
    pageRender,
    miniflare,
  };
  await writeReport(results);
}

/** Prints the table; writes BENCHMARKS.md from a quiet run, else the report to a temp file. */
async function writeReport(results: BenchResults): Promise<void> {
  const benchmarksPath = join(ROOT, 'BENCHMARKS.md');
  const recorded = await readFile(benchmarksPath, 'utf8').catch(() => null);
  const previous = previousHeadline(recorded);
  const notes = await readFile(join(ROOT, 'bench', 'NOTES.md'), 'utf8').catch(() => '');
  console.log(textReport(results, previous));
  const report = markdownReport(results, previous, notes, chaosBlock(recorded));
  if (isQuiet(results.load) || process.env.HOOKGATE_BENCH_RECORD_BUSY === '1') {
    await writeFile(benchmarksPath, report);
    say('wrote BENCHMARKS.md');
  } else {
    // BENCHMARKS.md keeps a quiet run: a busy one's figures would stand as the record with inflated latencies.
    const aside = join(tmpdir(), `hookgate-bench-busy-${results.date.replaceAll(':', '-')}.md`);
    await writeFile(aside, report);
    say(`the machine was busy (${results.load.othersCores.toFixed(2)} cores used by others): BENCHMARKS.md left as it was; this run's report is ${aside}`);
  }
}

/** Rewrites BENCHMARKS.md from the results it records, with the current notes. */
async function render(): Promise<void> {
  const path = join(ROOT, 'BENCHMARKS.md');
  const markdown = await readFile(path, 'utf8').catch(() => null);
  const recorded = recordedResults(markdown);
  if (!recorded) throw new Error('BENCHMARKS.md records no results to render; run `npm run bench`');
  const notes = await readFile(join(ROOT, 'bench', 'NOTES.md'), 'utf8').catch(() => '');
  await writeFile(path, markdownReport(recorded.results, recorded.previous, notes, chaosBlock(markdown)));
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
