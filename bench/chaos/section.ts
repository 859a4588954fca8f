/**
 * Section "7. Chaos" of BENCHMARKS.md: rendered from a chaos run, spliced between its own markers so
 * that `npm run chaos` rewrites only it and `npm run bench` (which rewrites the rest) keeps it
 * (`keepChaosSection`). Also the terminal summary.
 */
import { isQuiet } from '../machine.ts';
import type { BackgroundLoad, Machine } from '../machine.ts';
import { ms, num } from '../stats.ts';
import type { Distribution } from '../stats.ts';
import type { GateChaos, ParkedChaos } from './tally.ts';

export interface ChaosResults {
  date: string;
  command: string;
  seed: number;
  seconds: number;
  machine: Machine;
  load: BackgroundLoad;
  gates: GateChaos | null;
  park: (ParkedChaos & { roundTripMs: number; toDispatchMs: number }) | null;
}

const BEGIN = '<!-- chaos-begin -->';
const END = '<!-- chaos-end -->';
const RESULTS_MARK = 'chaos-results';

const verdict = (met: boolean): string => (met ? 'met' : '**missed**');
const row = (...cells: string[]): string => `| ${cells.join(' | ')} |`;
const distRow = (name: string, d: Distribution): string => row(name, ms(d.p50), ms(d.p90), ms(d.p99), ms(d.max), num(d.count));

function header(r: ChaosResults): string[] {
  const m = r.machine;
  return [
    '## 7. Chaos',
    '',
    'Written by `npm run chaos` (`node bench/chaos.ts`; bench/chaos/), not by `npm run bench`, which keeps this section as it is.',
    '',
    row('', ''),
    row('---', '---'),
    row('date', r.date),
    row('command', `\`${r.command}\` (${num(r.seconds)} s), seed ${r.seed}`),
    row('commit', m.commit),
    row('machine', `${m.cpu}, ${m.cores} cores; Node ${m.node}; wrangler ${m.wrangler}; workerd ${m.workerd}`),
    row('background load', `other processes used ${num(r.load.othersCores, 2)} cores on average, ${num(r.load.othersPeakCores, 2)} at peak${isQuiet(r.load) ? '' : ' (**busy**: restart times are inflated)'}`),
    '',
  ];
}

function gateLines(g: GateChaos): string[] {
  return [
    '### Callbacks and waiting gates through a SIGKILL',
    '',
    `Each of ${num(g.cycles)} cycles registers ${g.gatesPerCycle} gates over ${g.runsPerCycle} runs (${g.runsPerCycle} Durable Objects) on the local relay`,
    '(`wrangler dev`, its state dir kept across restarts), has each gate long-polled by the action\'s own `waitForDecision`',
    '(action/clients/relay.ts, which retries with backoff through a dead relay), and sends every callback at once. At a',
    `moment drawn uniformly over the callbacks' window (first sent → last answered with no kill: ${ms(g.windowMs)}) the relay's whole`,
    'process group gets SIGKILL; `wrangler dev` is started again on the same port and state. Then every gate is read back',
    '(`GET /v1/gates/:id?wait=0`); a callback that got no answer is sent again, as an external system retries, until it is',
    'answered 2xx, and read back again; every waiter has 45 s from the restart to see its decision.',
    '',
    row('', 'count', 'goal', ''),
    row('---', '---:', '---:', '---'),
    row('gates (cycles × gates)', `${num(g.gates)} (${num(g.cycles)} × ${g.gatesPerCycle})`, '', ''),
    row('callbacks acknowledged (2xx) before the kill', num(g.acknowledged), '', ''),
    row('of those, **lost** (not stored after the restart)', `**${num(g.lost)}**`, '0', verdict(g.lost === 0)),
    row('callbacks with no answer (connection reset or refused)', num(g.unacknowledged), '', ''),
    row('of those, stored anyway (the kill came after the write)', num(g.storedWithoutAnswer), '', ''),
    row('of those, stored by the retry after the restart', num(g.retriedThenStored), '', ''),
    row('of those, not stored although a retry was answered 2xx', num(g.retriedNotStored), '0', verdict(g.retriedNotStored === 0)),
    row('waiters that saw their decision before the kill', num(g.waitersBeforeKill), '', ''),
    row('waiters that saw their decision after the restart', num(g.waitersAfterRestart), '', ''),
    row('waiters that **never** saw their decision (or saw another)', `**${num(g.waitersMissed)}**`, '0', verdict(g.waitersMissed === 0)),
    '',
    row('per cycle', 'p50', 'p90', 'p99', 'max', 'samples'),
    row('---', '---:', '---:', '---:', '---:', '---:'),
    distRow('kill moment, after the first callback was sent', g.killAt),
    distRow('SIGKILL → every process of the group gone', g.killed),
    distRow('**restart: spawn → first answered request** (`/healthz`, asked every 10 ms)', g.firstAnswer),
    distRow('spawn → `wrangler dev` reported ready', g.ready),
    distRow('spawn → a waiter saw its decision (per waiter)', g.waiterSeen),
    '',
    'The restart is `wrangler dev` starting from nothing (Node, wrangler\'s bundling, two workerd processes); a waiter then',
    'sees its decision at its next retry: the action backs off 0.5, 1, 2, 4, 8, 10 s after each failed request.',
    '',
    ...failedStartLines(g.failedStarts),
  ];
}

function parkLines(p: NonNullable<ChaosResults['park']>): string[] {
  return [
    '### Parked runs: a SIGKILL between the last decision and the resume dispatch',
    '',
    'A relay of its own with a GitHub App whose GitHub is the tests\' fake (test/support/github-api, as in section 6).',
    `Each of ${num(p.cycles)} cycles parks a deployment of two gates through \`POST /v1/runs/park\` (the relay's park API, the`,
    'request the action sends when it parks; not `node dist/index.js`), decides the first gate, sends the last decision and',
    `kills the relay's process group: in about a quarter of the cycles at a moment drawn over the callback's usual round trip`,
    `(${ms(p.roundTripMs)} with no kill, so mostly before its 200 arrives), otherwise 0–50 ms after the 200 (with no kill the`,
    `dispatch reaches GitHub ${ms(p.toDispatchMs)} after the 200, median of the warm-up parks). The relay is started again on the same`,
    'state; a last callback that got no answer is sent again; the dispatches at the fake GitHub are counted per parked',
    'run 3 s after the last cycle.',
    '',
    row('', 'count', 'goal', ''),
    row('---', '---:', '---:', '---'),
    row('parked runs', num(p.cycles), '', ''),
    row('killed before the last callback\'s 200 arrived (no answer: sent again after the restart)', `${num(p.killsBefore200)} (${num(p.retried)})`, '', ''),
    row(`killed after the 200 (0–50 ms: p50 ${ms(p.offsetAfter200.p50)}, max ${ms(p.offsetAfter200.max)})`, num(p.killsAfter200), '', ''),
    row('killed after the 200 and before the dispatch reached GitHub', num(p.betweenDecisionAndDispatch), '', ''),
    row('resume dispatched before the kill', num(p.dispatchedBeforeKill), '', ''),
    row('**resumed exactly once**', `**${num(p.exactlyOnce)}**`, num(p.cycles), verdict(p.exactlyOnce === p.cycles)),
    row('lost (no dispatch)', num(p.lost), '0', verdict(p.lost === 0)),
    row('duplicated (more than one dispatch)', `${num(p.duplicated)} (${num(p.extraDispatches)} extra)`, '0', verdict(p.duplicated === 0)),
    '',
    ...duplicateLines(p),
    row('', 'p50', 'p90', 'p99', 'max', 'samples'),
    row('---', '---:', '---:', '---:', '---:', '---:'),
    distRow('restart: spawn → first answered request', p.firstAnswer),
    distRow('spawn → the resume dispatch at the fake GitHub (when it came after the kill)', p.resumeAfterSpawn),
    '',
    ...failedStartLines(p.failedStarts),
  ];
}

/** Restarts whose first `wrangler dev` did not come up (the harness started it again): shown, not hidden. */
function failedStartLines(failures: readonly string[]): string[] {
  if (failures.length === 0) return [];
  return [`${failures.length} start${failures.length === 1 ? '' : 's'} of \`wrangler dev\` after a kill failed and ${failures.length === 1 ? 'was' : 'were'} tried again (the times above count from the start that came up):`, '', ...failures.map((f) => `- ${f}`), ''];
}

function duplicateLines(p: NonNullable<ChaosResults['park']>): string[] {
  if (p.duplicates.length === 0) return [];
  const lines = ['Each duplicated resume: where the kill fell, and each dispatch\'s arrival at the fake GitHub against the kill.', ''];
  for (const d of p.duplicates) {
    const kill = d.offsetMs === null ? 'killed before the 200' : `killed ${ms(d.offsetMs)} after the 200`;
    lines.push(`- ${kill}; dispatches at ${d.dispatchVsKillMs.map((at) => `${at >= 0 ? '+' : ''}${ms(at)}`).join(', ')}`);
  }
  const straddle = p.duplicates.every((d) => d.dispatchVsKillMs.some((at) => at <= 0) && d.dispatchVsKillMs.some((at) => at > 0));
  lines.push(
    '',
    straddle
      ? 'Cause: in each, GitHub had accepted the dispatch before the kill, but the relay\'s record that it was sent was not yet ' +
          'durable; the restarted relay\'s alarm found the dispatch still due and sent it again (at-least-once delivery). ' +
          'The second workflow run does not deploy again: its job asks `/v1/runs/resume`, finds the park claimed by the first ' +
          'run (or closed), and fails with that message.'
      : 'Cause: not identified by this run (a dispatch did not straddle the kill); see the dispatch times above.',
    '',
  );
  return lines;
}

/** The whole section, between its markers, with the run's results for a later re-render. */
export function chaosSection(r: ChaosResults): string {
  const lines = [
    BEGIN,
    ...header(r),
    ...(r.gates ? gateLines(r.gates) : ['No gate cycles in this run (`--cycles 0`).', '']),
    ...(r.park ? parkLines(r.park) : ['No parked cycles in this run (`--parked 0`).', '']),
  ];
  lines.push(`<!-- ${RESULTS_MARK} ${JSON.stringify(r).replaceAll('--', '-\\u002d')} -->`, END);
  return lines.join('\n');
}

/** The chaos section of a BENCHMARKS.md, markers included; null when it has none. */
export function chaosBlock(markdown: string | null): string | null {
  if (!markdown) return null;
  const start = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END, start);
  return start === -1 || end === -1 ? null : markdown.slice(start, end + END.length);
}

/** `markdown` with `block` after section 6: before the notes (`## Notes`), else before the recorded results, else at the end. */
function insert(markdown: string, block: string): string {
  const at = [/^## Notes\b/m, /^<!-- bench-headline /m].map((re) => re.exec(markdown)?.index).find((i) => i !== undefined);
  if (at === undefined) return `${markdown.trimEnd()}\n\n${block}\n`;
  return `${markdown.slice(0, at)}${block}\n\n${markdown.slice(at)}`;
}

/** BENCHMARKS.md with its chaos section replaced by (or, when it has none, given) this run's. */
export function replaceChaosSection(markdown: string, results: ChaosResults): string {
  const block = chaosSection(results);
  const old = chaosBlock(markdown);
  return old === null ? insert(markdown, block) : markdown.replace(old, () => block);
}

/** For `npm run bench`: the freshly rendered `markdown` with the chaos section `previous` had, unchanged. */
export function keepChaosSection(markdown: string, previous: string | null): string {
  const block = chaosBlock(previous);
  if (block === null || chaosBlock(markdown) !== null) return markdown;
  return insert(markdown, block);
}

/** The terminal summary. */
export function chaosText(r: ChaosResults): string {
  const lines = [`Chaos: ${num(r.seconds)} s, seed ${r.seed}`];
  const g = r.gates;
  if (g) {
    lines.push(
      `Gates: ${g.cycles} cycles × ${g.gatesPerCycle} gates, SIGKILL within the ${ms(g.windowMs)} callback window`,
      `  acknowledged ${g.acknowledged}, lost ${g.lost} (goal 0) | unanswered ${g.unacknowledged}: stored anyway ${g.storedWithoutAnswer}, stored by the retry ${g.retriedThenStored}, not stored ${g.retriedNotStored}`,
      `  waiters: saw before the kill ${g.waitersBeforeKill}, after the restart ${g.waitersAfterRestart}, never ${g.waitersMissed} (goal 0)`,
      `  restart → first answer p50 ${ms(g.firstAnswer.p50)}, p99 ${ms(g.firstAnswer.p99)}; → waiter saw p50 ${ms(g.waiterSeen.p50)}, p99 ${ms(g.waiterSeen.p99)}`,
    );
  }
  const p = r.park;
  if (p) {
    lines.push(
      `Parked: ${p.cycles} runs, killed before the 200 ${p.killsBefore200}, after ${p.killsAfter200}; between the 200 and the dispatch ${p.betweenDecisionAndDispatch}; dispatched before the kill ${p.dispatchedBeforeKill}`,
      `  resumed exactly once ${p.exactlyOnce}/${p.cycles}, lost ${p.lost}, duplicated ${p.duplicated} (goal 0, 0); restart → first answer p50 ${ms(p.firstAnswer.p50)}`,
      ...p.duplicates.map((d) => `  duplicated: kill ${d.offsetMs === null ? 'before the 200' : `${ms(d.offsetMs)} after the 200`}; dispatches at ${d.dispatchVsKillMs.map((at) => ms(at)).join(', ')} from the kill`),
    );
  }
  return lines.join('\n');
}
