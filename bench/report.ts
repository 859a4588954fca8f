/** The bench's results as a table for the terminal and as BENCHMARKS.md. */
import { MAX_GATES_PER_RUN } from '../shared/protocol.ts';
import type { ThroughputResult, RoundTrip } from './callback-throughput.ts';
import type { ColdStart, DistSize } from './cold-start.ts';
import type { CostResult } from './cost-per-hour.ts';
import { POLLER_INTERVAL_SECONDS } from './cost-per-hour.ts';
import type { EngineOverhead } from './engine-overhead.ts';
import type { BackgroundLoad, Machine } from './machine.ts';
import { PRICE_SOURCES, PRICES, hourlyBill } from './pricing.ts';
import { ms, num } from './stats.ts';
import type { WakeRow } from './wake-latency.ts';

export interface BenchResults {
  date: string;
  command: string;
  seconds: number;
  machine: Machine;
  load: BackgroundLoad;
  roundTrip: RoundTrip;
  wake: WakeRow[];
  throughput: ThroughputResult;
  coldStart: ColdStart;
  dist: DistSize;
  cost: CostResult;
  engine: EngineOverhead;
}

/** The figures a goal is judged on, kept in BENCHMARKS.md so the next run can show the variance. */
export interface Headline {
  date: string;
  wakeP50At1000: number;
  wakeP99At1000: number;
  wakeP99At1000FromAccepted: number;
  callbacksPerSecond: number;
  trivialPerSecond: number;
  ratio: number;
  coldStartP50: number;
  coldStartMax: number;
  distBytes: number;
  longPollRequestsPerHour: number;
  pollerRequestsPerHour: number;
  engineMsPerStep: number;
  engineMarginalMsPerStep: number;
}

export const GOALS = {
  wakeP99Ms: 50,
  ratio: 0.3,
  coldStartMs: 300,
  distBytes: 2_000_000,
} as const;

function wakeAt1000(results: BenchResults): WakeRow | undefined {
  return results.wake.find((row) => row.gates === 1000 && row.layout === 'one-run');
}

export function headline(results: BenchResults): Headline {
  const wake = wakeAt1000(results);
  return {
    date: results.date,
    wakeP50At1000: wake?.fromSend.p50 ?? Number.NaN,
    wakeP99At1000: wake?.fromSend.p99 ?? Number.NaN,
    wakeP99At1000FromAccepted: wake?.fromAccepted.p99 ?? Number.NaN,
    callbacksPerSecond: results.throughput.relay.perSecond,
    trivialPerSecond: results.throughput.trivial.perSecond,
    ratio: results.throughput.ratio,
    coldStartP50: results.coldStart.action.p50,
    coldStartMax: results.coldStart.action.max,
    distBytes: results.dist.totalBytes,
    longPollRequestsPerHour: results.cost.longPoll.perHour.requests,
    pollerRequestsPerHour: results.cost.poller.perHour.requests,
    engineMsPerStep: results.engine.perStepMs,
    engineMarginalMsPerStep: results.engine.marginalPerStepMs,
  };
}

interface Goal {
  name: string;
  goal: string;
  value: string;
  previous: string;
  met: boolean;
}

function goals(h: Headline, previous: Headline | null): Goal[] {
  const prev = (f: (p: Headline) => string): string => (previous ? f(previous) : '—');
  return [
    {
      // The issue's own definition: from the relay accepting the callback (its 200) to the action seeing it.
      name: 'Wake latency p99, 1,000 gates waiting (callback accepted → seen)',
      goal: `< ${GOALS.wakeP99Ms} ms`,
      value: ms(h.wakeP99At1000FromAccepted),
      previous: prev((p) => ms(p.wakeP99At1000FromAccepted)),
      met: h.wakeP99At1000FromAccepted < GOALS.wakeP99Ms,
    },
    {
      // Stricter: also counts the callback's own trip through wrangler dev's two proxy layers.
      name: 'Wake latency p99, 1,000 gates waiting (callback sent → seen)',
      goal: `< ${GOALS.wakeP99Ms} ms`,
      value: ms(h.wakeP99At1000),
      previous: prev((p) => ms(p.wakeP99At1000)),
      met: h.wakeP99At1000 < GOALS.wakeP99Ms,
    },
    {
      name: 'Callbacks/s with 1,000 waiting ÷ trivial Worker',
      goal: `≥ ${GOALS.ratio}`,
      value: num(h.ratio, 2),
      previous: prev((p) => num(p.ratio, 2)),
      met: h.ratio >= GOALS.ratio,
    },
    {
      name: 'Action cold start p50 (spawn → first relay request)',
      goal: `< ${GOALS.coldStartMs} ms`,
      value: ms(h.coldStartP50),
      previous: prev((p) => ms(p.coldStartP50)),
      met: h.coldStartP50 < GOALS.coldStartMs,
    },
    {
      name: 'Size of dist/',
      goal: '< 2 MB',
      value: `${num(h.distBytes / 1000)} KB`,
      previous: prev((p) => `${num(p.distBytes / 1000)} KB`),
      met: h.distBytes < GOALS.distBytes,
    },
  ];
}

function gatesLabel(count: number): string {
  return `${num(count)} gate${count === 1 ? '' : 's'} waiting`;
}

function layoutLabel(row: WakeRow): string {
  if (row.layout === 'one-run') {
    // A run holds at most MAX_GATES_PER_RUN gates: more fill the next run's Durable Object.
    const runs = Math.ceil((row.mostWaiting + 1) / MAX_GATES_PER_RUN);
    if (row.gates === 1) return '1 run';
    return runs === 1 ? '1 run (1 Durable Object)' : `${runs} runs of at most ${num(MAX_GATES_PER_RUN)} gates (${runs} Durable Objects)`;
  }
  return `1 run per gate (${num(row.mostWaiting + 1)} Durable Objects)`;
}

function waitingRange(row: WakeRow): string {
  return row.mostWaiting === row.gates ? num(row.gates) : `${num(row.gates)}–${num(row.mostWaiting)}`;
}

/** Plain-text table for the terminal. */
export function textReport(results: BenchResults, previous: Headline | null): string {
  const h = headline(results);
  const m = results.machine;
  const lines: string[] = [];
  const rule = '─'.repeat(100);
  lines.push(rule);
  lines.push(`hookgate bench · ${results.date} · ${m.cpu} ×${m.cores}, ${num(m.ramGiB, 1)} GiB · Node ${m.node} · wrangler ${m.wrangler} · workerd ${m.workerd}`);
  lines.push(`other processes used ${num(results.load.othersCores, 2)} cores on average (peak ${num(results.load.othersPeakCores, 2)}) during the ${num(results.seconds)} s run`);
  lines.push(rule);
  lines.push('1. Wake latency: callback sent → the action\'s waitForDecision resolves (and from the callback\'s 200)');
  for (const row of results.wake) {
    lines.push(
      `   ${gatesLabel(row.gates).padEnd(20)} | p50 ${ms(row.fromSend.p50).padStart(9)} | p90 ${ms(row.fromSend.p90).padStart(9)} | p99 ${ms(row.fromSend.p99).padStart(9)} | max ${ms(row.fromSend.max).padStart(10)} | from 200: p50 ${ms(row.fromAccepted.p50)}, p99 ${ms(row.fromAccepted.p99)} | ${row.fromSend.count} samples, ${layoutLabel(row)}`,
    );
  }
  lines.push(`   request floor: trivial Worker GET p50 ${ms(results.roundTrip.trivial.p50)}, relay /healthz p50 ${ms(results.roundTrip.relayHealth.p50)} (sequential, through wrangler dev)`);
  const t = results.throughput;
  lines.push('2. Callback throughput, ' + `${num(t.waiting)} gates waiting, ${t.inFlight} requests in flight`);
  lines.push(`   relay callbacks      ${num(t.relay.perSecond, 1).padStart(8)} /s   (workerd CPU ${num(t.relay.workerdCpuMsPerRequest, 1)} ms per callback, ${num(t.relay.requests)} callbacks, ${t.relay.errors} errors)`);
  lines.push(`   trivial Worker       ${num(t.trivial.perSecond, 1).padStart(8)} /s   (workerd CPU ${num(t.trivial.workerdCpuMsPerRequest, 1)} ms per request, ${num(t.trivial.requests)} requests, ${t.trivial.errors} errors)`);
  lines.push(`   ratio                ${num(t.ratio, 2).padStart(8)}`);
  const c = results.coldStart;
  lines.push(`3. Cold start, spawn → first relay request (${c.firstRequest}), ${c.runs} runs`);
  lines.push(`   node dist/index.js   p50 ${ms(c.action.p50)}, max ${ms(c.action.max)}`);
  lines.push(`   node -e "fetch(…)"   p50 ${ms(c.nodeFloor.p50)}, max ${ms(c.nodeFloor.max)}   (Node's own floor)`);
  lines.push(`   dist/                ${num(results.dist.totalBytes / 1000, 1)} KB: ${results.dist.files.map((f) => `${f.path} ${num(f.bytes / 1000, 1)} KB`).join(', ')}`);
  const cost = results.cost;
  const longBill = hourlyBill(cost.longPoll.perHour.requests, cost.longPoll.perHour.heldSeconds);
  const pollBill = hourlyBill(cost.poller.perHour.requests, cost.poller.perHour.heldSeconds);
  lines.push(`4. Cost of one hour of waiting on one gate (measured over ${num(cost.countedSeconds)} s, scaled)`);
  lines.push(
    `   action long-poll     ${num(cost.longPoll.perHour.requests).padStart(5)} requests/h, relay held open ${num(cost.longPoll.perHour.heldSeconds)} s/h → ${num(longBill.gbSeconds, 1)} GB-s/h, $${longBill.dollars.toFixed(5)}/h; decision seen after ${ms(cost.longPoll.seenAfterMs)}`,
  );
  lines.push(
    `   ${POLLER_INTERVAL_SECONDS} s poller        ${num(cost.poller.perHour.requests).padStart(5)} requests/h, relay held open ${num(cost.poller.perHour.heldSeconds, 1)} s/h → ${num(pollBill.gbSeconds, 1)} GB-s/h, $${pollBill.dollars.toFixed(5)}/h; decision seen after ${ms(cost.poller.seenAfterMs)}`,
  );
  const e = results.engine;
  lines.push(`5. Engine overhead, ${e.steps} instant webhook steps, median of ${e.runs} runs`);
  lines.push(
    `   total ${ms(e.totalMs)} → ${ms(e.perStepMs)} per step; 1-step run ${ms(e.oneStepMs)} → ${ms(e.marginalPerStepMs)} per further step; steps' own median ${ms(e.reportedStepMs)}`,
  );
  lines.push(rule);
  for (const g of goals(h, previous)) {
    lines.push(`${g.met ? 'met   ' : 'MISSED'}  ${g.name.padEnd(55)} ${g.value.padStart(10)}  (goal ${g.goal}; previous run ${g.previous})`);
  }
  lines.push(rule);
  return lines.join('\n');
}

const RESULTS_MARK = 'bench-headline';
const FULL_MARK = 'bench-results';

/** The headline figures a previous BENCHMARKS.md recorded, if any. */
export function previousHeadline(markdown: string | null): Headline | null {
  if (!markdown) return null;
  const match = new RegExp(`<!-- ${RESULTS_MARK} (\\{.*\\}) -->`).exec(markdown);
  if (!match?.[1]) return null;
  try {
    return JSON.parse(match[1]) as Headline;
  } catch {
    return null;
  }
}

/** The whole results of the run a BENCHMARKS.md was written from, and its previous run's headline. */
export function recordedResults(markdown: string | null): { results: BenchResults; previous: Headline | null } | null {
  if (!markdown) return null;
  const match = new RegExp(`<!-- ${FULL_MARK} (\\{.*\\}) -->`).exec(markdown);
  if (!match?.[1]) return null;
  try {
    return JSON.parse(match[1]) as { results: BenchResults; previous: Headline | null };
  } catch {
    return null;
  }
}

/** BENCHMARKS.md: machine, command, date, every figure with its unit, goals; then the notes. */
export function markdownReport(results: BenchResults, previous: Headline | null, notes: string): string {
  const h = headline(results);
  const m = results.machine;
  const out: string[] = [];
  const row = (...cells: string[]): void => void out.push(`| ${cells.join(' | ')} |`);
  out.push('# Benchmarks');
  out.push('');
  out.push('Written by `npm run bench` (`node bench/run.ts`); do not edit by hand — the notes come from');
  out.push('[`bench/NOTES.md`](bench/NOTES.md). Timing is never asserted in `npm test`; this is where speed is measured.');
  out.push('');
  row('', '');
  row('---', '---');
  row('date', results.date);
  row('command', `\`${results.command}\` (${num(results.seconds)} s)`);
  row('commit', m.commit);
  row('machine', `${m.cpu}, ${m.cores} cores, ${num(m.ramGiB, 1)} GiB RAM, ${m.os}`);
  row('runtime', `Node ${m.node}; wrangler ${m.wrangler}; workerd ${m.workerd} (\`wrangler dev\`, local mode)`);
  row(
    'background load',
    `other processes used ${num(results.load.othersCores, 2)} cores on average, ${num(results.load.othersPeakCores, 2)} at peak (load average at start ${m.loadAverage.map((l) => num(l, 2)).join(', ')})${results.load.top.length > 0 ? `; busiest: ${results.load.top.map((p) => `\`${p.command}\` ${num(p.cpuSeconds, 1)} s`).join(', ')}` : ''}`,
  );
  out.push('');
  out.push('## Goals');
  out.push('');
  row('figure', 'goal', 'this run', 'previous run', '');
  row('---', '---', '---:', '---:', '---');
  for (const g of goals(h, previous)) row(g.name, g.goal, g.value, g.previous, g.met ? 'met' : '**missed**');
  out.push('');
  if (previous) out.push(`Previous run: ${previous.date}.`);
  out.push('');

  out.push('## 1. Wake latency');
  out.push('');
  out.push('Gates wait in the action\'s own `waitForDecision` (action/clients/relay.ts), each on its own connection');
  out.push('(the open connections were counted in /proc/net/tcp); the bench decides a shuffled sample one at a');
  out.push('time and times each gate from sending its callback until its `waitForDecision` resolves. "From 200"');
  out.push('starts at the callback\'s own answer instead (negative: the wake arrived first). A round registers');
  out.push('N + S gates and decides S + 1 of them, the first unmeasured (it warms the callback path up), so at');
  out.push('every sample between N and N + S − 1 gates waited; all of it inside the first 25 s poll window.');
  out.push('');
  row('gates waiting', 'p50', 'p90', 'p99', 'max', 'from 200: p50', 'from 200: p99', 'callback round trip p50', 'samples', 'layout', 'open connections');
  row('---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---', '---:');
  for (const w of results.wake) {
    row(
      `${gatesLabel(w.gates)} (${waitingRange(w)})`,
      ms(w.fromSend.p50),
      ms(w.fromSend.p90),
      ms(w.fromSend.p99),
      ms(w.fromSend.max),
      ms(w.fromAccepted.p50),
      ms(w.fromAccepted.p99),
      ms(w.callback.p50),
      num(w.fromSend.count),
      layoutLabel(w),
      num(w.connections),
    );
  }
  out.push('');
  out.push(
    `For scale, one request through \`wrangler dev\` on this machine: trivial Worker GET p50 ${ms(results.roundTrip.trivial.p50)} (p90 ${ms(results.roundTrip.trivial.p90)}), relay \`/healthz\` p50 ${ms(results.roundTrip.relayHealth.p50)} (p90 ${ms(results.roundTrip.relayHealth.p90)}), ${results.roundTrip.trivial.count} sequential requests each.`,
  );
  out.push('');

  const t = results.throughput;
  out.push('## 2. Callback throughput');
  out.push('');
  out.push(`${num(t.waiting)} gates wait (long-polls of the action's \`RelayClient.poll\`, 30 s window, all in one run's Durable Object)`);
  out.push(`while ${num(t.relay.requests)} further waiting gates of that run are decided by callbacks, ${t.inFlight} in flight; then the`);
  out.push('same number of POSTs, same body, same concurrency, to the trivial Worker (bench/trivial-worker) under its own');
  out.push(`\`wrangler dev\` (same wrangler, same workerd binary), measured after the relay, not at the same time. Long-polls that`);
  out.push(`ended during the measurement: ${t.earlyPolls}.`);
  out.push('');
  row('', 'requests', 'seconds', 'per second', 'workerd CPU per request', 'errors');
  row('---', '---:', '---:', '---:', '---:', '---:');
  row('relay callbacks', num(t.relay.requests), num(t.relay.seconds, 2), `${num(t.relay.perSecond, 1)} /s`, ms(t.relay.workerdCpuMsPerRequest), num(t.relay.errors));
  row('trivial Worker', num(t.trivial.requests), num(t.trivial.seconds, 2), `${num(t.trivial.perSecond, 1)} /s`, ms(t.trivial.workerdCpuMsPerRequest), num(t.trivial.errors));
  row('ratio', '', '', `**${num(t.ratio, 2)}**`, '', '');
  out.push('');

  const c = results.coldStart;
  out.push('## 3. Cold start and bundle size');
  out.push('');
  out.push(`\`node dist/index.js\` spawned with the runner's \`INPUT_*\` variables against a local HTTP server posing as the relay;`);
  out.push(`time from \`spawn()\` to the first request's arrival (\`${c.firstRequest}\`), ${c.runs} runs after one unmeasured`);
  out.push('warm-up, interleaved with the same Node binary running only `fetch()` (the floor any Node action pays).');
  out.push('');
  row('', 'p50', 'p90', 'max');
  row('---', '---:', '---:', '---:');
  row('`node dist/index.js` → first relay request', ms(c.action.p50), ms(c.action.p90), ms(c.action.max));
  row('`node -e "fetch(…)"` → first request', ms(c.nodeFloor.p50), ms(c.nodeFloor.p90), ms(c.nodeFloor.max));
  row('hookgate\'s own share (p50 difference)', ms(c.action.p50 - c.nodeFloor.p50), '', '');
  out.push('');
  row('file', 'size');
  row('---', '---:');
  for (const f of results.dist.files) row(`\`${f.path}\``, `${num(f.bytes / 1000, 1)} KB (${num(f.bytes)} bytes)`);
  row('**dist/ total**', `**${num(results.dist.totalBytes / 1000, 1)} KB** (${num(results.dist.totalBytes)} bytes)`);
  out.push('');

  const cost = results.cost;
  const longBill = hourlyBill(cost.longPoll.perHour.requests, cost.longPoll.perHour.heldSeconds);
  const pollBill = hourlyBill(cost.poller.perHour.requests, cost.poller.perHour.heldSeconds);
  out.push('## 4. Cost of an hour of waiting');
  out.push('');
  const minutes = cost.countedSeconds / 60;
  out.push(`Two gates wait side by side for ${num(minutes)} minute${minutes === 1 ? '' : 's'} (+5 s), through a loopback proxy that counts the`);
  out.push(`requests and how long the relay held each open: one with the action's \`waitForDecision\`, one with a client that`);
  out.push(`asks every ${POLLER_INTERVAL_SECONDS} s with \`wait=0\`; then both are decided at once. Counts are over whole minutes from each`);
  out.push('client\'s first request, scaled to an hour. The callback itself (one request either way) is not counted.');
  out.push('');
  row('per hour of waiting, one gate', 'requests', 'relay held requests open', 'billable DO duration', 'Worker + DO requests', 'list price', 'decision seen after');
  row('---', '---:', '---:', '---:', '---:', '---:', '---:');
  row(
    'action long-poll (25 + 25 + 10 s windows)',
    num(cost.longPoll.perHour.requests),
    `${num(cost.longPoll.perHour.heldSeconds)} s`,
    `${num(longBill.gbSeconds, 1)} GB-s`,
    `${num(longBill.workerRequests)} + ${num(longBill.durableObjectRequests)}`,
    `$${longBill.dollars.toFixed(5)}`,
    ms(cost.longPoll.seenAfterMs),
  );
  row(
    `${POLLER_INTERVAL_SECONDS} s poller (\`wait=0\`)`,
    num(cost.poller.perHour.requests),
    `${num(cost.poller.perHour.heldSeconds, 1)} s`,
    `${num(pollBill.gbSeconds, 2)} GB-s`,
    `${num(pollBill.workerRequests)} + ${num(pollBill.durableObjectRequests)}`,
    `$${pollBill.dollars.toFixed(5)}`,
    ms(cost.poller.seenAfterMs),
  );
  out.push('');
  out.push(
    `Billing terms (Workers Paid, list prices above the monthly allowances): Worker requests $${PRICES.workerRequestPerMillion.toFixed(2)}/million, Durable Object requests $${PRICES.durableObjectRequestPerMillion.toFixed(2)}/million (each GET is one Worker request and one Durable Object RPC), Durable Object duration $${PRICES.durableObjectGbSecondPerMillion.toFixed(2)}/million GB-s at ${PRICES.durableObjectGb * 1000} MB per object. A Durable Object is billed for wall-clock time while it cannot hibernate, and a pending \`setTimeout\` or an unanswered request prevents hibernation, so the relay's object is billable for every second a long-poll is held; the poller's object is billable only while it handles a request (the held time above, an upper bound). The Worker in front is billed for CPU time, not for waiting on the Durable Object. One Durable Object serves a whole run, so several gates of one run waiting at once share one duration bill (each still makes its own requests). Sources: ${PRICE_SOURCES.map((s) => `<${s}>`).join(', ')}.`,
  );
  out.push('');

  const e = results.engine;
  out.push('## 5. Engine overhead');
  out.push('');
  out.push(`A deployment of ${e.steps} canary \`runWebhook\` steps whose simulated external system (scripts/external-system.ts,`);
  out.push('`instant=1`) posts its callback before it even answers the webhook call, run as the runner runs it');
  out.push(`(\`node dist/index.js\`, scripts/run-action.ts) against the local relay; median of ${e.runs} runs, each beside a run of the same`);
  out.push('file with 1 step (process start, plan, summary: the fixed part).');
  out.push('');
  row('', 'time');
  row('---', '---:');
  row(`${e.steps}-step deployment, spawn → exit`, ms(e.totalMs));
  row(`÷ ${e.steps} steps`, `**${ms(e.perStepMs)}** per step`);
  row('1-step deployment, spawn → exit', ms(e.oneStepMs));
  row(`(${e.steps}-step − 1-step) ÷ ${e.steps - 1}`, `${ms(e.marginalPerStepMs)} per further step`);
  row('steps\' own duration in the report (median)', ms(e.reportedStepMs));
  out.push('');
  out.push(notes.trim());
  out.push('');
  out.push(`<!-- ${RESULTS_MARK} ${JSON.stringify(h)} -->`);
  // The whole run, so `node bench/run.ts --render` can rewrite this file (new notes, new layout) without measuring again.
  out.push(`<!-- ${FULL_MARK} ${JSON.stringify({ results, previous }).replaceAll('--', '-\\u002d')} -->`);
  out.push('');
  return out.join('\n');
}
