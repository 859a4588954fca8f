/** BENCHMARKS.md's sections added by issue 14: the engine's step split, the approval page's CPU, the relay under Miniflare. */
import type { StepSplit } from './engine-overhead.ts';
import { GOALS } from './goals.ts';
import type { Page } from './markdown-page.ts';
import { gatesLabel, layoutLabel, waitingRange } from './report.ts';
import type { BenchResults } from './report.ts';
import { ms, num } from './stats.ts';
import type { WakeRow } from './wake-latency.ts';

const verdict = (met: boolean): string => (met ? 'met' : '**missed**');

/** What one further webhook step costs, split into its relay requests, the webhook call and the action's own time. */
export function splitTable(page: Page, split: StepSplit, platform: string, steps: number): void {
  const total = split.relayMs + split.webhookMs + split.ownMs;
  page.text(`Per webhook step on ${platform}, from the proxy's records (medians over the runs). Requests: (${steps}-step run − 1-step run) ÷ ${steps - 1},`);
  page.text('so once-per-target requests cancel out. Time: from the first registration to the end of the last relay request of the');
  page.text(`${steps}-step run (process start, plan and summary left out) ÷ ${steps}, split into time with a relay request open, time with`);
  page.text('only the webhook call open, and the rest: hookgate\'s own work (and Node\'s: a request\'s time inside the action\'s');
  page.text('process before it reaches the proxy counts here too, so this is an upper bound of hookgate\'s share).', '');
  page.row('per webhook step', 'value', 'goal', '');
  page.row('---', '---:', '---', '---');
  page.row('**relay requests**', `**${num(split.relayRequests, 1)}**`, `≤ ${GOALS.relayRequestsPerStep}`, verdict(split.relayRequests <= GOALS.relayRequestsPerStep));
  for (const route of split.byRoute) page.row(`\`${route.route}\``, num(route.perStep, 1), '', '');
  page.row('waiting on relay requests', ms(split.relayMs), '', '');
  page.row('waiting on the webhook call alone', ms(split.webhookMs), '', '');
  page.row("**hookgate's own time**", `**${ms(split.ownMs)}**`, `< ${GOALS.ownMsPerStep} ms`, verdict(split.ownMs < GOALS.ownMsPerStep));
  page.row('sum: one step, from the first registration to the last request', ms(total), '', '');
  page.text('');
}

export function pageRenderSection(page: Page, results: BenchResults): void {
  const p = results.pageRender;
  if (!p) return;
  page.text('## 8. Approval page CPU', '');
  page.text('The relay\'s render function (`approvalPageHtml`, relay/approval/page.ts) inside workerd: a bench Worker of a few lines');
  page.text('(bench/page-render.ts, never part of the relay) imports it and runs under Miniflare with the relay\'s compatibility date');
  page.text(`and flags. The page is the largest the limits allow (${p.shape}), each message as long as`);
  page.text('the store sends it, the costliest Markdown first so the page\'s Markdown budget is spent whole, the rest escape-heavy');
  page.text('text, outputs and graph names full of `<&>"`. CPU is the workerd process\'s own (/proc, 10 ms ticks): warm, a request');
  page.text('rendering the page N times minus one rendering it 0 times, ÷ N;');
  page.text('cold, the first render in a fresh isolate minus an empty first request (so the isolate\'s start is not counted).', '');
  page.row('', 'p50', 'max', 'samples', 'goal', '');
  page.row('---', '---:', '---:', '---:', '---', '---');
  page.row(
    `warm: CPU per render (${num(p.htmlBytes / 1000)} KB of HTML)`,
    `**${ms(p.warmCpuMs.p50)}**`,
    ms(p.warmCpuMs.max),
    `${p.rounds} × ${p.rendersPerRound} renders`,
    `< ${GOALS.pageRenderMs} ms`,
    verdict(p.warmCpuMs.p50 < GOALS.pageRenderMs),
  );
  page.row(
    'cold: first render in a fresh isolate',
    `**${ms(p.coldCpuMs.p50)}**`,
    ms(p.coldCpuMs.max),
    `${p.coldCpuMs.count} isolates`,
    `< ${GOALS.pageRenderMs} ms`,
    verdict(p.coldCpuMs.p50 < GOALS.pageRenderMs),
  );
  page.text('');
  const served = results.miniflare?.page;
  if (!served) return;
  page.text(`As served: the same limits filled through the relay's API on the relay under Miniflare (section 9): one run, ${num(served.gates)}`);
  page.text('gates on one target, the approval in the middle; the gates its page shows carry 16 KiB messages, one report more than');
  page.text('the page shows, and every other one a decision with 50 outputs; the run\'s graph has 100 targets. CPU of `GET /approve/<token>`:');
  page.text('the whole workerd process (Worker, Durable Object reads and RPC, render).', '');
  page.row('', 'workerd CPU', 'samples', 'goal', '');
  page.row('---', '---:', '---:', '---', '---');
  page.row(`first GET (${num(served.htmlBytes / 1000)} KB of HTML)`, ms(served.firstCpuMs), '1', `< ${GOALS.pageRenderMs} ms`, verdict(served.firstCpuMs < GOALS.pageRenderMs));
  page.row('warm, per GET (p50 of the rounds)', ms(served.warmCpuMs.p50), `${served.warmCpuMs.count} × ${served.requests} GETs`, `< ${GOALS.pageRenderMs} ms`, verdict(served.warmCpuMs.p50 < GOALS.pageRenderMs));
  page.text('');
}

/** The `wrangler dev` row measured with the same plan step, if any. */
function wranglerRow(results: BenchResults, row: WakeRow): WakeRow | undefined {
  return results.wake.find((w) => w.gates === row.gates && w.layout === row.layout);
}

export function miniflareSection(page: Page, results: BenchResults): void {
  const mf = results.miniflare;
  if (!mf) return;
  page.text('## 9. Closer to production: the relay under Miniflare directly', '');
  page.text('`wrangler dev` puts its proxy Worker in front of each Worker. Here the relay is bundled as a deployment bundles it');
  page.text(`(\`wrangler deploy --dry-run --outdir\`, ${num(mf.bundleBytes / 1000)} KB) and served by \`new Miniflare()\` in a process of its own`);
  page.text('(bench/miniflare-serve.ts): the same workerd binary, SQLite-backed Durable Objects on disk and the relay\'s compatibility');
  page.text('settings, without the proxy Worker; Miniflare\'s own entry Worker still routes each request. Same measurements as');
  page.text('sections 1, 2 and 5, the trivial Worker also under Miniflare.', '');
  page.row('gates waiting', 'wrangler dev p50', 'wrangler dev p99', 'Miniflare p50', 'Miniflare p90', '**Miniflare p99**', 'Miniflare max', 'from 200: p99', 'callback round trip p50', 'samples', 'layout');
  page.row('---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---');
  for (const row of mf.wake) {
    const w = wranglerRow(results, row);
    page.row(
      `${gatesLabel(row.gates)} (${waitingRange(row)})`,
      w ? ms(w.fromSend.p50) : '—',
      w ? ms(w.fromSend.p99) : '—',
      ms(row.fromSend.p50),
      ms(row.fromSend.p90),
      `**${ms(row.fromSend.p99)}**`,
      ms(row.fromSend.max),
      ms(row.fromAccepted.p99),
      ms(row.callback.p50),
      num(row.fromSend.count),
      layoutLabel(row),
    );
  }
  const at1000 = mf.wake.find((row) => row.gates === 1000 && row.layout === 'one-run');
  if (at1000) {
    const met = at1000.fromSend.p99 < GOALS.miniflareWakeP99Ms;
    page.text('', `Goal: wake latency p99 from the callback's send under ${GOALS.miniflareWakeP99Ms} ms with ${num(1000)} gates waiting: ${ms(at1000.fromSend.p99)}, ${verdict(met)}.`);
  }
  const t = mf.throughput;
  const w = results.throughput;
  page.text('');
  page.row(`${num(t.waiting)} gates waiting, ${t.inFlight} in flight`, 'wrangler dev', 'Miniflare', 'Miniflare: workerd CPU per request');
  page.row('---', '---:', '---:', '---:');
  page.row('relay callbacks', `${num(w.relay.perSecond, 1)} /s`, `${num(t.relay.perSecond, 1)} /s`, ms(t.relay.workerdCpuMsPerRequest));
  page.row('trivial Worker', `${num(w.trivial.perSecond, 1)} /s`, `${num(t.trivial.perSecond, 1)} /s`, ms(t.trivial.workerdCpuMsPerRequest));
  page.row('ratio', num(w.ratio, 2), num(t.ratio, 2), '');
  page.row('errors, long-polls ended early', `${w.relay.errors}, ${w.earlyPolls}`, `${t.relay.errors}, ${t.earlyPolls}`, '');
  page.row('one sequential request: trivial GET p50, relay /healthz p50', `${ms(results.roundTrip.trivial.p50)}, ${ms(results.roundTrip.relayHealth.p50)}`, `${ms(mf.roundTrip.trivial.p50)}, ${ms(mf.roundTrip.relayHealth.p50)}`, '');
  page.text('');
  if (mf.engine?.split) {
    page.text(`The engine-overhead deployment against this relay: ${ms(mf.engine.perStepMs)} per step, ${ms(mf.engine.marginalPerStepMs)} per further step.`, '');
    splitTable(page, mf.engine.split, 'Miniflare', mf.engine.steps);
  }
}
