/**
 * `node bench/diagnose/relay-gc.ts [waiting]` (Linux, needs `perf` and the right
 * to attach to processes): are the slow callbacks of the wake-latency round the
 * ones during which workerd collected garbage? Samples workerd's stacks with
 * `perf record -k CLOCK_MONOTONIC` while 250 of `waiting` + 250 long-polled
 * gates of one run are decided one at a time, then counts, per callback, the
 * samples inside V8's or cppgc's collector between its send and its wake.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForDecision } from '../../action/clients/relay.ts';
import { startLocalRelay } from '../../scripts/local-relay.ts';
import { settle } from '../processes.ts';
import { actionClient, registerGates, runIdsFor, sendCallback } from '../relay-gates.ts';
import { median, shuffled, sleep } from '../stats.ts';

const GC_FRAME = /Heap::CollectGarbage|MarkCompactCollector|Scavenger|IncrementalMarking|cppgc::internal::(Marker|Sweeper)/;
const waiting = Number(process.argv[2] ?? '1000');
const decide = 250;
const dir = await mkdtemp(join(tmpdir(), 'hookgate-gc-'));
const relay = await startLocalRelay({ stateDir: join(dir, 'state') });
const calls: { start: number; end: number }[] = [];
try {
  const target = { url: relay.url, token: relay.relayToken, port: relay.port };
  const client = actionClient(target);
  const gates = await registerGates(target, runIdsFor('one-run', waiting + decide, 'gc'), 'gc');
  const controller = new AbortController();
  // CLOCK_MONOTONIC seconds, the clock perf is told to use.
  const now = (): number => Number(process.hrtime.bigint()) / 1e9;
  const woken = new Map<string, Promise<number>>();
  for (const gate of gates) {
    const done = waitForDecision(client, gate.view, { signal: controller.signal }).then(now);
    done.catch(() => undefined);
    woken.set(gate.view.gateId, done);
  }
  await settle(relay.port, gates.length);
  const [warmUp, ...order] = shuffled(gates);
  if (warmUp) await sendCallback(warmUp.callbackUri);
  const pids = execFileSync('pgrep', ['-x', 'workerd'], { encoding: 'utf8' }).trim().split('\n').join(',');
  const perf = spawn('perf', ['record', '-k', 'CLOCK_MONOTONIC', '-F', '2999', '-g', '-o', join(dir, 'perf.data'), '-p', pids], { stdio: 'ignore' });
  await sleep(800);
  for (const gate of order.slice(0, decide)) {
    const start = now();
    await sendCallback(gate.callbackUri);
    calls.push({ start, end: (await woken.get(gate.view.gateId)) ?? Number.NaN });
  }
  perf.kill('SIGINT');
  await once(perf, 'exit');
  controller.abort();

  const script = execFileSync('perf', ['script', '-i', join(dir, 'perf.data'), '-F', 'tid,time,ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const samples = script
    .split('\n\n')
    .map((block) => ({ t: Number(/^\s*\d+\s+([\d.]+):/.exec(block)?.[1]), gc: GC_FRAME.test(block) }))
    .filter((s) => Number.isFinite(s.t));
  const inside = (call: { start: number; end: number }, gcOnly: boolean): number =>
    samples.filter((s) => s.t >= call.start && s.t <= call.end && (!gcOnly || s.gc)).length;
  const ms = (call: { start: number; end: number }): number => (call.end - call.start) * 1000;
  const typical = median(calls.map(ms));
  console.log(`${waiting}–${waiting + decide - 1} gates waiting; median callback → wake ${typical.toFixed(1)} ms; ${samples.length} workerd samples, ${samples.filter((s) => s.gc).length} in GC`);
  console.log('slowest callbacks (workerd samples inside, of them in GC; 3 samples ≈ 1 ms):');
  for (const call of [...calls].sort((a, b) => ms(b) - ms(a)).slice(0, 8)) {
    console.log(`  ${ms(call).toFixed(1).padStart(6)} ms: ${inside(call, false)} samples, ${inside(call, true)} in GC`);
  }
  const fast = calls.filter((call) => ms(call) <= typical);
  const fastGc = fast.reduce((sum, call) => sum + inside(call, true), 0);
  console.log(`callbacks at or under the median: ${fastGc} GC samples in all`);
} finally {
  await relay.stop();
  await rm(dir, { recursive: true, force: true });
}
