/** BENCHMARKS.md from the bench's results: one function per section, each appending its lines. */
import { POLLER_INTERVAL_SECONDS } from './cost-per-hour.ts';
import { PRICE_SOURCES, PRICES, hourlyBill } from './pricing.ts';
import { FULL_MARK, RESULTS_MARK, gatesLabel, goals, headline, layoutLabel, waitingRange } from './report.ts';
import type { BenchResults, Headline } from './report.ts';
import type { DistPart } from './cold-start.ts';
import { ms, num } from './stats.ts';
import { Page } from './markdown-page.ts';
import { miniflareSection, pageRenderSection, splitTable } from './markdown-platform.ts';
import { loadVerdict } from './report.ts';

/**
 * BENCHMARKS.md: machine, command, date, every figure with its unit, goals; then the notes.
 * `chaos`: the section `npm run chaos` wrote (bench/chaos/section.ts), kept as it is after section 6.
 */
export function markdownReport(results: BenchResults, previous: Headline | null, notes: string, chaos: string | null = null): string {
  const h = headline(results);
  const page = new Page();
  machineSection(page, results);
  page.text('## Goals', '');
  page.row('figure', 'goal', 'this run', 'previous run', '');
  page.row('---', '---', '---:', '---:', '---');
  for (const g of goals(h, previous)) page.row(g.name, g.goal, g.value, g.previous, g.met ? 'met' : '**missed**');
  page.text('');
  if (previous) page.text(`Previous run: ${previous.date}.`);
  page.text('');
  wakeSection(page, results);
  throughputSection(page, results);
  coldStartSection(page, results);
  costSection(page, results);
  engineSection(page, results);
  parkSection(page, results);
  if (chaos) page.text(chaos, '');
  pageRenderSection(page, results);
  miniflareSection(page, results);
  page.text(notes.trim(), '', `<!-- ${RESULTS_MARK} ${JSON.stringify(h)} -->`);
  // The whole run, so `node bench/run.ts --render` can rewrite this file (new notes, new layout) without measuring again.
  page.text(`<!-- ${FULL_MARK} ${JSON.stringify({ results, previous }).replaceAll('--', '-\\u002d')} -->`, '');
  return page.lines.join('\n');
}

function machineSection(page: Page, results: BenchResults): void {
  const m = results.machine;
  page.text('# Benchmarks', '');
  page.text('Written by `npm run bench` (`node bench/run.ts`); do not edit by hand — the notes come from');
  page.text('[`bench/NOTES.md`](bench/NOTES.md). Timing is never asserted in `npm test`; this is where speed is measured.', '');
  page.row('', '');
  page.row('---', '---');
  page.row('date', results.date);
  page.row('command', `\`${results.command}\` (${num(results.seconds)} s)`);
  page.row('commit', m.commit);
  page.row('machine', `${m.cpu}, ${m.cores} cores, ${num(m.ramGiB, 1)} GiB RAM, ${m.os}`);
  page.row('runtime', `Node ${m.node}; wrangler ${m.wrangler}; workerd ${m.workerd} (\`wrangler dev\`, local mode)`);
  const busiest = results.load.top.length > 0 ? `; busiest: ${results.load.top.map((p) => `\`${p.command}\` ${num(p.cpuSeconds, 1)} s`).join(', ')}` : '';
  page.row(
    'background load',
    `**${loadVerdict(results)}**: other processes used ${num(results.load.othersCores, 2)} cores on average, ${num(results.load.othersPeakCores, 2)} at peak (load average at start ${m.loadAverage.map((l) => num(l, 2)).join(', ')})${busiest}`,
  );
  page.text('');
}

function wakeSection(page: Page, results: BenchResults): void {
  page.text('## 1. Wake latency', '');
  page.text('Gates wait in the action\'s own `waitForDecision` (action/clients/relay.ts), each on its own connection');
  page.text('(the open connections were counted in /proc/net/tcp); the bench decides a shuffled sample one at a');
  page.text('time and times each gate from sending its callback until its `waitForDecision` resolves. "From 200"');
  page.text('starts at the callback\'s own answer instead (negative: the wake arrived first). A round registers');
  page.text('N + S gates and decides S + 1 of them, the first unmeasured (it warms the callback path up), so at');
  page.text('every sample between N and N + S − 1 gates waited; all of it inside the first 25 s poll window.', '');
  page.row('gates waiting', 'p50', 'p90', 'p99', 'max', 'from 200: p50', 'from 200: p99', 'callback round trip p50', 'samples', 'layout', 'open connections');
  page.row('---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---', '---:');
  for (const w of results.wake) {
    page.row(
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
  const r = results.roundTrip;
  page.text(
    '',
    `For scale, one request through \`wrangler dev\` on this machine: trivial Worker GET p50 ${ms(r.trivial.p50)} (p90 ${ms(r.trivial.p90)}), relay \`/healthz\` p50 ${ms(r.relayHealth.p50)} (p90 ${ms(r.relayHealth.p90)}), ${r.trivial.count} sequential requests each.`,
    '',
  );
}

function throughputSection(page: Page, results: BenchResults): void {
  const t = results.throughput;
  page.text('## 2. Callback throughput', '');
  page.text(`${num(t.waiting)} gates wait (long-polls of the action's \`RelayClient.poll\`, 30 s window, all in one run's Durable Object)`);
  page.text(`while ${num(t.relay.requests)} further waiting gates of that run are decided by callbacks, ${t.inFlight} in flight; then the`);
  page.text('same number of POSTs, same body, same concurrency, to the trivial Worker (bench/trivial-worker) under its own');
  page.text(`\`wrangler dev\` (same wrangler, same workerd binary), measured after the relay, not at the same time. Long-polls that`);
  page.text(`ended during the measurement: ${t.earlyPolls}.`, '');
  page.row('', 'requests', 'seconds', 'per second', 'workerd CPU per request', 'errors');
  page.row('---', '---:', '---:', '---:', '---:', '---:');
  page.row('relay callbacks', num(t.relay.requests), num(t.relay.seconds, 2), `${num(t.relay.perSecond, 1)} /s`, ms(t.relay.workerdCpuMsPerRequest), num(t.relay.errors));
  page.row('trivial Worker', num(t.trivial.requests), num(t.trivial.seconds, 2), `${num(t.trivial.perSecond, 1)} /s`, ms(t.trivial.workerdCpuMsPerRequest), num(t.trivial.errors));
  page.row('ratio', '', '', `**${num(t.ratio, 2)}**`, '', '');
  page.text('');
}

function coldStartSection(page: Page, results: BenchResults): void {
  const c = results.coldStart;
  page.text('## 3. Cold start and bundle size', '');
  page.text(`\`node dist/index.js\` spawned with the runner's \`INPUT_*\` variables against a local HTTP server posing as the relay;`);
  page.text(`time from \`spawn()\` to the first request's arrival (\`${c.firstRequest}\`), ${c.runs} runs after one unmeasured`);
  page.text('warm-up, interleaved with the same Node binary running only `fetch()` (the floor any Node action pays).', '');
  page.row('', 'p50', 'p90', 'max');
  page.row('---', '---:', '---:', '---:');
  page.row('`node dist/index.js` → first relay request', ms(c.action.p50), ms(c.action.p90), ms(c.action.max));
  page.row('`node -e "fetch(…)"` → first request', ms(c.nodeFloor.p50), ms(c.nodeFloor.p90), ms(c.nodeFloor.max));
  page.row('hookgate\'s own share (p50 difference)', ms(c.action.p50 - c.nodeFloor.p50), '', '');
  page.text('');
  const d = results.dist;
  page.row('file', 'size', 'loaded');
  page.row('---', '---:', '---');
  for (const f of d.files) page.row(`\`${f.path}\``, `${num(f.bytes / 1000, 1)} KB (${num(f.bytes)} bytes)`, f.part ? PART_LABELS[f.part] : '');
  page.row("**what the action can load** (index.js, post.js, every chunk)", `**${num(d.totalBytes / 1000, 1)} KB** (${num(d.totalBytes)} bytes)`, '');
  if (d.startBytes !== undefined) page.row('of which loaded by every run', `${num(d.startBytes / 1000, 1)} KB`, '');
  if (d.cliBytes !== undefined) page.row('the CLI apart (`hookgate`: cli.js, deploy.schema.json)', `${num(d.cliBytes / 1000, 1)} KB`, '');
  page.text('');
}

function costSection(page: Page, results: BenchResults): void {
  const cost = results.cost;
  const longBill = hourlyBill(cost.longPoll.perHour.requests, cost.longPoll.perHour.heldSeconds);
  const pollBill = hourlyBill(cost.poller.perHour.requests, cost.poller.perHour.heldSeconds);
  const minutes = cost.countedSeconds / 60;
  page.text('## 4. Cost of an hour of waiting', '');
  page.text(`Two gates wait side by side for ${num(minutes)} minute${minutes === 1 ? '' : 's'} (+5 s), through a loopback proxy that counts the`);
  page.text(`requests and how long the relay held each open: one with the action's \`waitForDecision\`, one with a client that`);
  page.text(`asks every ${POLLER_INTERVAL_SECONDS} s with \`wait=0\`; then both are decided at once. Counts are over whole minutes from each`);
  page.text('client\'s first request, scaled to an hour. The callback itself (one request either way) is not counted.', '');
  page.row('per hour of waiting, one gate', 'requests', 'relay held requests open', 'billable DO duration', 'Worker + DO requests', 'list price', 'decision seen after');
  page.row('---', '---:', '---:', '---:', '---:', '---:', '---:');
  page.row(
    'action long-poll (25 + 25 + 10 s windows)',
    num(cost.longPoll.perHour.requests),
    `${num(cost.longPoll.perHour.heldSeconds)} s`,
    `${num(longBill.gbSeconds, 1)} GB-s`,
    `${num(longBill.workerRequests)} + ${num(longBill.durableObjectRequests)}`,
    `$${longBill.dollars.toFixed(5)}`,
    ms(cost.longPoll.seenAfterMs),
  );
  page.row(
    `${POLLER_INTERVAL_SECONDS} s poller (\`wait=0\`)`,
    num(cost.poller.perHour.requests),
    `${num(cost.poller.perHour.heldSeconds, 1)} s`,
    `${num(pollBill.gbSeconds, 2)} GB-s`,
    `${num(pollBill.workerRequests)} + ${num(pollBill.durableObjectRequests)}`,
    `$${pollBill.dollars.toFixed(5)}`,
    ms(cost.poller.seenAfterMs),
  );
  page.text(
    '',
    `Billing terms (Workers Paid, list prices above the monthly allowances): Worker requests $${PRICES.workerRequestPerMillion.toFixed(2)}/million, Durable Object requests $${PRICES.durableObjectRequestPerMillion.toFixed(2)}/million (each GET is one Worker request and one Durable Object RPC), Durable Object duration $${PRICES.durableObjectGbSecondPerMillion.toFixed(2)}/million GB-s at ${PRICES.durableObjectGb * 1000} MB per object. A Durable Object is billed for wall-clock time while it cannot hibernate, and a pending \`setTimeout\` or an unanswered request prevents hibernation, so the relay's object is billable for every second a long-poll is held; the poller's object is billable only while it handles a request (the held time above, an upper bound). The Worker in front is billed for CPU time, not for waiting on the Durable Object. One Durable Object serves a whole run, so several gates of one run waiting at once share one duration bill (each still makes its own requests). Sources: ${PRICE_SOURCES.map((s) => `<${s}>`).join(', ')}.`,
    '',
  );
}

const PART_LABELS: Record<DistPart, string> = {
  start: 'at start (index.js and its static imports)',
  'on demand': 'on demand (OIDC, GitHub API)',
  post: 'post step',
  cli: 'never by the action (the CLI)',
  schema: 'never by the action (written beside the CLI)',
};

function engineSection(page: Page, results: BenchResults): void {
  const e = results.engine;
  page.text('## 5. Engine overhead', '');
  page.text(`A deployment of ${e.steps} canary \`runWebhook\` steps whose simulated external system (scripts/external-system.ts,`);
  page.text('`instant=1`) posts its callback before it even answers the webhook call, run as the runner runs it');
  page.text(`(\`node dist/index.js\`, scripts/run-action.ts) against the local relay; median of ${e.runs} runs, each beside a run of the same`);
  page.text('file with 1 step (process start, plan, summary: the fixed part).');
  if (e.split) page.text('The action reaches the relay and the external system through a loopback proxy (bench/timing-proxy.ts) that records every request (below).');
  page.text('');
  page.row('', 'time');
  page.row('---', '---:');
  page.row(`${e.steps}-step deployment, spawn → exit`, ms(e.totalMs));
  page.row(`÷ ${e.steps} steps`, `**${ms(e.perStepMs)}** per step`);
  page.row('1-step deployment, spawn → exit', ms(e.oneStepMs));
  page.row(`(${e.steps}-step − 1-step) ÷ ${e.steps - 1}`, `${ms(e.marginalPerStepMs)} per further step`);
  page.row('steps\' own duration in the report (median)', ms(e.reportedStepMs));
  page.text('');
  if (e.split) splitTable(page, e.split, '`wrangler dev`', e.steps);
}

function parkSection(page: Page, results: BenchResults): void {
  const park = results.park;
  if (!park) return;
  const d = park.decisionToDispatch;
  const h = park.parkedHour;
  page.text('## 6. Park and resume', '');
  page.text('A relay of its own with a GitHub App (a key pair made for the run, PKCS#1) whose GitHub is the tests\' fake');
  page.text('(test/support/github-api: it checks the App JWT, the installation token and the dispatch body). Each of');
  page.text(`${park.deployments} deployments registers two webhook gates and parks through \`POST /v1/runs/park\` as the action does; its`);
  page.text('first gate is decided, then its last, and the time runs from sending that last callback to the dispatch request\'s');
  page.text('arrival at the fake GitHub; one deployment at a time.', '');
  page.row('', 'p50', 'p90', 'p99', 'max', 'first (installation + token)', 'p99 of the others (token cached)', 'dispatched before the last decision');
  page.row('---', '---:', '---:', '---:', '---:', '---:', '---:', '---:');
  page.row('last decision → dispatch request at GitHub', ms(d.p50), ms(d.p90), `**${ms(d.p99)}**`, ms(d.max), ms(park.firstMs), ms(park.warm.p99), num(park.early));
  page.text('', `With ${park.deployments} samples the p99 is the slowest one, in practice the first: a resume hours after the last one also finds`);
  page.text('no cached token, so the first is what a typical production resume pays (plus the network to GitHub).');
  page.text('');
  page.text('Requests per parked hour from the runner: `node dist/index.js` (scripts/run-action.ts) reaches the relay only through a');
  page.text('loopback proxy that records every request\'s arrival; its one gate is never decided, so it parks after `park-after: 1s`');
  page.text(`and exits. The proxy then counts what arrives over ${num(h.windowSeconds)} s parked, scaled to an hour; /proc shows whether any`);
  page.text('process still has the job\'s workspace as its directory.', '');
  page.row('', 'value');
  page.row('---', '---:');
  page.row('spawn → exited parked', ms(h.exitedAfterMs));
  page.row('relay requests before it exited', num(h.requestsBeforeExit));
  page.row(`relay requests in ${num(h.windowSeconds)} s parked`, num(h.requestsAfterExit));
  page.row('**relay requests per parked hour**', `**${num(h.perHour)}**`);
  page.row('processes left behind', num(h.processesLeft));
  page.text('');
}
