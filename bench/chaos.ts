/**
 * `npm run chaos`: the relay's reliability under SIGKILL (issue 14). Gate cycles (bench/chaos/gate-cycles.ts)
 * kill the local relay's whole process group while callbacks are in flight and gates wait in the
 * action's own client, and count what survived; parked cycles (bench/chaos/parked-cycles.ts) kill a
 * relay with a GitHub App between a parked run's last decision and its resume dispatch, and count
 * the dispatches. Writes section "7. Chaos" of BENCHMARKS.md (bench/chaos/section.ts), which
 * `npm run bench` keeps, from a quiet run only (else to a temp file, as the bench does). Everything it
 * starts is stopped at the end, on failure and on Ctrl-C.
 *
 *   node bench/chaos.ts [--cycles 100] [--parked 20] [--gates 20] [--runs 4] [--seed N] [--no-write]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../scripts/local-relay.ts';
import { runGateCycles } from './chaos/gate-cycles.ts';
import type { GatePlan } from './chaos/gate-cycles.ts';
import { seededRandom } from './chaos/http.ts';
import { runParkedCycles } from './chaos/parked-cycles.ts';
import { RestartableRelay } from './chaos/restartable-relay.ts';
import { chaosSection, chaosText, replaceChaosSection } from './chaos/section.ts';
import type { ChaosResults } from './chaos/section.ts';
import type { GateChaos } from './chaos/tally.ts';
import { isQuiet, machine, watchBackgroundLoad } from './machine.ts';
import { cleanupAll, cleanupOnSignals, onCleanup } from './processes.ts';

const started = performance.now();
const say = (line: string): void => console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);

function count(value: string | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${value}: give a whole number of at least ${min}`);
  return n;
}

async function gateChaos(plan: GatePlan, random: () => number): Promise<GateChaos> {
  const stateDir = await mkdtemp(join(tmpdir(), 'hookgate-chaos-relay-'));
  onCleanup(() => rm(stateDir, { recursive: true, force: true }));
  const relay = await RestartableRelay.start(stateDir);
  say(`relay on ${relay.url}, state in ${stateDir} (kept across restarts)`);
  const gates = await runGateCycles(relay, plan, random, say);
  await relay.stop();
  return gates;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cycles: { type: 'string' },
      parked: { type: 'string' },
      gates: { type: 'string' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      'no-write': { type: 'boolean' },
    },
  });
  const plan = {
    cycles: count(values.cycles, 100, 'cycles', 0),
    gatesPerCycle: count(values.gates, 20, 'gates', 1),
    runsPerCycle: count(values.runs, 4, 'runs', 1),
  };
  const parked = count(values.parked, 20, 'parked', 0);
  const seed = count(values.seed, Date.now() % 1_000_000, 'seed', 0);
  const random = seededRandom(seed);
  cleanupOnSignals();
  const load = watchBackgroundLoad();
  const info = machine();
  const date = new Date().toISOString();
  say(`machine: ${info.cpu} ×${info.cores}; ${plan.cycles} gate cycles of ${plan.gatesPerCycle} gates, ${parked} parked cycles, seed ${seed}`);

  const gates = plan.cycles > 0 ? await gateChaos(plan, random) : null;
  const park = parked > 0 ? await runParkedCycles(parked, random, say) : null;
  await cleanupAll();

  const results: ChaosResults = {
    date,
    command: `npm run chaos${process.argv.slice(2).length > 0 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    seed,
    seconds: (performance.now() - started) / 1000,
    machine: info,
    load: load.stop(),
    gates,
    park,
  };
  console.log(chaosText(results));
  if (!values['no-write']) await writeSection(results);
}

/** Section 7 of BENCHMARKS.md from a quiet run (as `npm run bench` does), else the section to a temp file. */
async function writeSection(results: ChaosResults): Promise<void> {
  const path = join(ROOT, 'BENCHMARKS.md');
  if (isQuiet(results.load) || process.env.HOOKGATE_BENCH_RECORD_BUSY === '1') {
    await writeFile(path, replaceChaosSection(await readFile(path, 'utf8').catch(() => ''), results));
    say('wrote section 7 of BENCHMARKS.md');
    return;
  }
  // BENCHMARKS.md keeps a quiet run: restart times on a busy machine would stand as the record.
  const aside = join(tmpdir(), `hookgate-chaos-busy-${results.date.replaceAll(':', '-')}.md`);
  await writeFile(aside, `${chaosSection(results)}\n`);
  say(`the machine was busy (${results.load.othersCores.toFixed(2)} cores used by others): BENCHMARKS.md left as it was; this run's section is ${aside} (HOOKGATE_BENCH_RECORD_BUSY=1 records it anyway)`);
}

try {
  await main();
} catch (error) {
  console.error(`chaos failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
  if (process.exitCode === 1) process.exit(1);
}
