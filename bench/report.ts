/** The bench's results and the table for the terminal (goals: goals.ts; BENCHMARKS.md: markdown-report.ts). */
import { MAX_GATES_PER_RUN } from '../shared/protocol.ts';
import type { ThroughputResult, RoundTrip } from './callback-throughput.ts';
import type { ColdStart, DistSize } from './cold-start.ts';
import type { CostResult } from './cost-per-hour.ts';
import { POLLER_INTERVAL_SECONDS } from './cost-per-hour.ts';
import type { EngineOverhead, StepSplit } from './engine-overhead.ts';
import { goals, headline } from './goals.ts';
import type { Headline } from './goals.ts';
import type { BackgroundLoad, Machine } from './machine.ts';
import { QUIET_OTHERS_CORES, isQuiet } from './machine.ts';
import type { MiniflareResults } from './miniflare-platform.ts';
import type { PageRender } from './page-render.ts';
import { parkLines } from './park-dispatch.ts';
import type { ParkResult } from './park-dispatch.ts';
import { hourlyBill } from './pricing.ts';
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
  /** Park and resume (issue 11); absent from runs recorded before it. */
  park?: ParkResult;
  /** Issue 14: the largest approval page's render CPU, and the relay under Miniflare directly. */
  pageRender?: PageRender;
  miniflare?: MiniflareResults;
}

export { GOALS, goals, headline } from './goals.ts';
export type { Goal, Headline } from './goals.ts';

export function gatesLabel(count: number): string {
  return `${num(count)} gate${count === 1 ? '' : 's'} waiting`;
}

export function layoutLabel(row: WakeRow): string {
  if (row.layout === 'one-run') {
    // A run holds at most MAX_GATES_PER_RUN gates: more fill the next run's Durable Object.
    const runs = Math.ceil((row.mostWaiting + 1) / MAX_GATES_PER_RUN);
    if (row.gates === 1) return '1 run';
    return runs === 1 ? '1 run (1 Durable Object)' : `${runs} runs of at most ${num(MAX_GATES_PER_RUN)} gates (${runs} Durable Objects)`;
  }
  return `1 run per gate (${num(row.mostWaiting + 1)} Durable Objects)`;
}

export function waitingRange(row: WakeRow): string {
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
  lines.push(`other processes used ${num(results.load.othersCores, 2)} cores on average (peak ${num(results.load.othersPeakCores, 2)}) during the ${num(results.seconds)} s run: ${loadVerdict(results)}`);
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
  const d = results.dist;
  lines.push(`   the action's dist/   ${num(d.totalBytes / 1000, 1)} KB${d.startBytes === undefined ? '' : `, of which ${num(d.startBytes / 1000, 1)} KB loaded at start`}${d.cliBytes === undefined ? '' : `; the CLI apart ${num(d.cliBytes / 1000, 1)} KB`}`);
  lines.push(`   files: ${d.files.map((f) => `${f.path} ${num(f.bytes / 1000, 1)} KB${f.part ? ` (${f.part})` : ''}`).join(', ')}`);
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
  if (e.split) lines.push(...splitLines(e.split, '   '));
  if (results.park) lines.push(...parkLines(results.park));
  if (results.pageRender) lines.push(...pageRenderLines(results.pageRender));
  if (results.miniflare) lines.push(...miniflareLines(results.miniflare));
  lines.push(rule);
  for (const g of goals(h, previous)) {
    lines.push(`${g.met ? 'met   ' : 'MISSED'}  ${g.name.padEnd(55)} ${g.value.padStart(10)}  (goal ${g.goal}; previous run ${g.previous})`);
  }
  lines.push(rule);
  return lines.join('\n');
}

/** "quiet" or why not: the header says whether the figures may stand as the record. */
export function loadVerdict(results: BenchResults): string {
  return isQuiet(results.load)
    ? 'quiet'
    : `BUSY (over ${num(QUIET_OTHERS_CORES, 2)} cores): the latencies are inflated; BENCHMARKS.md keeps a quiet run`;
}

function splitLines(split: StepSplit, indent: string): string[] {
  return [
    `${indent}per step: ${num(split.relayRequests, 1)} relay requests (${split.byRoute.filter((r) => r.perStep > 0).map((r) => `${r.route} ${num(r.perStep, 1)}`).join(', ')})`,
    `${indent}  = ${ms(split.relayMs)} waiting on relay requests + ${ms(split.webhookMs)} on the webhook call alone + ${ms(split.ownMs)} hookgate's own time`,
  ];
}

function pageRenderLines(p: PageRender): string[] {
  return [
    `8. Approval page CPU in workerd, largest page the limits allow (${p.shape}; ${num(p.htmlBytes / 1000)} KB of HTML)`,
    `   warm: p50 ${ms(p.warmCpuMs.p50)} per render, max ${ms(p.warmCpuMs.max)} (${p.rounds} rounds of ${p.rendersPerRound}); first render in a fresh isolate: p50 ${ms(p.coldCpuMs.p50)}, max ${ms(p.coldCpuMs.max)} (${p.coldCpuMs.count} isolates)`,
  ];
}

function miniflareLines(mf: MiniflareResults): string[] {
  const lines = [`9. Closer to production: the relay under Miniflare directly (no wrangler proxy Worker), bundle ${num(mf.bundleBytes / 1000)} KB`];
  for (const row of mf.wake) {
    lines.push(`   ${gatesLabel(row.gates).padEnd(20)} | p50 ${ms(row.fromSend.p50).padStart(9)} | p99 ${ms(row.fromSend.p99).padStart(9)} | max ${ms(row.fromSend.max).padStart(10)} | ${layoutLabel(row)}`);
  }
  const t = mf.throughput;
  lines.push(`   callbacks ${num(t.relay.perSecond, 1)} /s (workerd CPU ${ms(t.relay.workerdCpuMsPerRequest)}), trivial Worker ${num(t.trivial.perSecond, 1)} /s, ratio ${num(t.ratio, 2)}`);
  lines.push(`   request floor: trivial Worker GET p50 ${ms(mf.roundTrip.trivial.p50)}, relay /healthz p50 ${ms(mf.roundTrip.relayHealth.p50)}`);
  if (mf.page) lines.push(`   largest approval page as served (${num(mf.page.htmlBytes / 1000)} KB): workerd CPU ${ms(mf.page.firstCpuMs)} the first GET, ${ms(mf.page.warmCpuMs.p50)} per GET warm`);
  if (mf.engine?.split) lines.push(`   engine, ${ms(mf.engine.marginalPerStepMs)} per further step:`, ...splitLines(mf.engine.split, '   '));
  return lines;
}

export const RESULTS_MARK = 'bench-headline';
export const FULL_MARK = 'bench-results';

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
