/**
 * Approval page CPU (issue 14): the relay's own render function (relay/approval/page.ts
 * `approvalPageHtml`) run inside workerd on the largest page the limits allow. A bench Worker of a
 * few lines, never part of the relay, imports the render code; Miniflare serves it with the relay's
 * compatibility date and flags. The page arrives as JSON, is rendered `renders` times per request,
 * and the workerd process's CPU time (/proc) is read around each request.
 *
 * The largest page: an approval gate of a target holding MAX_GATES_PER_RUN gates (the page shows a
 * window of MAX_GATES_SHOWN and counts the rest), each with its message and MAX_REPORTS_SHOWN
 * progress reports cut where the store cuts them, the Markdown-costliest text (runs of `[`) first
 * so the page's Markdown budget is spent whole, the rest escape-heavy plain text, the most outputs
 * a page shows with the longest values, and a graph of MAX_GRAPH_TARGETS targets as long as a
 * 64 KiB registration body lets them be.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { MAX_GATES_PER_RUN, MAX_GRAPH_TARGETS } from '../shared/protocol.ts';
import type { GateView } from '../shared/protocol.ts';
import { MAX_GATES_SHOWN, MAX_MESSAGE_CODE_POINTS, MAX_OUTPUT_VALUE_CODE_POINTS, MAX_OUTPUTS_SHOWN, MAX_REPORTS_SHOWN } from '../relay/run/page-limits.ts';
import { ROOT } from '../scripts/local-relay.ts';
import { workerConfig } from './miniflare-relay.ts';
import { listenerPid } from './processes.ts';
import { distribution, num } from './stats.ts';
import type { Distribution } from './stats.ts';

export interface PageRender {
  /** The page's HTML, bytes. */
  htmlBytes: number;
  /** What the page was built from (for the table). */
  shape: string;
  /** workerd CPU per render, warm: (CPU of a request rendering N times − one rendering 0 times) ÷ N, per round. */
  warmCpuMs: Distribution;
  /** The first render in a fresh isolate (code not yet compiled): workerd CPU of that request − an empty request's, 10 ms ticks. */
  coldCpuMs: Distribution;
  rendersPerRound: number;
  rounds: number;
}

/** The bench Worker: a string, so the Node-side typecheck never walks into the relay's Workers-typed modules. */
const WORKER_SOURCE = `
import { approvalPageHtml } from './relay/approval/page.ts';
export default {
  async fetch(request) {
    const { page, renders } = await request.json();
    let html = '';
    for (let i = 0; i < renders; i++) html = approvalPageHtml(page, 'bench-csrf-token-0123456789abcdef');
    return Response.json({ bytes: new TextEncoder().encode(html).length });
  },
};
`;

const repeat = (unit: string, codePoints: number): string => unit.repeat(Math.ceil(codePoints / [...unit].length)).slice(0, codePoints);

/** A gate of the largest page; `markdownHeavy`: its texts are runs of `[` (the costliest Markdown per code point). */
function gate(index: number, kind: GateView['kind'], state: GateView['state'], markdownHeavy: boolean): GateView {
  // The store sends a message cut one code point past what the page shows, so the page can say it cut.
  const text = (salt: string): string => (markdownHeavy ? repeat('[a](', MAX_MESSAGE_CODE_POINTS + 1) : repeat(`<b>&"${salt}'</b> `, MAX_MESSAGE_CODE_POINTS + 1));
  const outputs = Object.fromEntries(
    Array.from({ length: MAX_OUTPUTS_SHOWN + 1 }, (_, i) => [`${'k'.repeat(60)}_${i}`, repeat('<&>"', MAX_OUTPUT_VALUE_CODE_POINTS + 1)]),
  );
  const now = Date.UTC(2026, 10, 29);
  return {
    gateId: `gate${String(index).padStart(18, '0')}`,
    runId: 'acme/potato-facts/1234567890',
    stepKey: `prod/strategy/${index}/${'s'.repeat(200)}`,
    target: repeat('<prod&>', 200),
    phase: 'strategy',
    name: repeat(`<Gate ${index}&>`, 200),
    kind,
    attempt: 1,
    state,
    message: text(`m${index}`),
    decidedBy: state === 'pending' ? null : repeat('<&>', 100),
    createdAt: now,
    deadline: now + 86_400_000,
    decidedAt: state === 'pending' ? null : now + 1000,
    progress: Array.from({ length: MAX_REPORTS_SHOWN }, (_, i) => ({ seq: 46 + i, at: now + i, message: text(`p${index}-${i}`) })),
    outputs: kind === 'webhook' && state !== 'pending' ? outputs : null,
    heartbeatSeconds: kind === 'webhook' ? 600 : null,
    lastHeardAt: kind === 'webhook' ? now : null,
  };
}

/** A graph of MAX_GRAPH_TARGETS targets, each after the two before it, names as long as a 64 KiB body allows. */
function graph(): { name: string; dependsOn: string[]; state: string }[] {
  const name = (i: number): string => `${repeat('<t&', 140)}-${i}`;
  const states = ['succeeded', 'running', 'parked', 'unknown', 'failed', 'rolled-back', 'canceled'];
  return Array.from({ length: MAX_GRAPH_TARGETS }, (_, i) => ({
    name: name(i),
    dependsOn: [i - 1, i - 2].filter((d) => d >= 0).map(name),
    state: states[i % states.length] as string,
  }));
}

/** The largest approval page the relay's limits allow (see the file's comment). */
export function largestPage(): Record<string, unknown> {
  const shown = Array.from({ length: MAX_GATES_SHOWN }, (_, i) =>
    // The first gates spend the Markdown budget; the current one is a pending approval in the middle.
    i === Math.floor(MAX_GATES_SHOWN / 2) ? gate(i, 'approval', 'pending', false) : gate(i, 'webhook', i % 2 === 0 ? 'succeeded' : 'pending', i < 2),
  );
  const current = shown[Math.floor(MAX_GATES_SHOWN / 2)] as GateView;
  const hidden = MAX_GATES_PER_RUN - MAX_GATES_SHOWN;
  const graphTargets = graph();
  const runInfoBytes = Buffer.byteLength(JSON.stringify({ graph: graphTargets.map(({ name, dependsOn }) => ({ name, dependsOn })) }));
  if (runInfoBytes > 60 * 1024) throw new Error(`the bench's graph (${runInfoBytes} bytes) would not fit a 64 KiB registration`);
  return {
    gate: current,
    requiresRoles: ['maintain', 'admin'],
    run: {
      application: repeat('<app&>', 200),
      repository: 'acme/potato-facts',
      sha: '0123456789abcdef0123456789abcdef01234567',
      ref: repeat('refs/heads/<&>', 300),
      actor: repeat('<&>', 100),
      runUrl: `https://github.com/acme/potato-facts/actions/runs/1234567890?${'q=<&>'.repeat(100)}`,
      graph: graphTargets.map(({ name, dependsOn }) => ({ name, dependsOn })),
    },
    resume: null,
    policy: null,
    votes: [],
    graph: graphTargets,
    gates: shown,
    hiddenBefore: Math.floor(hidden / 2),
    hiddenAfter: hidden - Math.floor(hidden / 2),
  };
}

/** CPU ms workerd (pid) has used so far; /proc counts 10 ms ticks. */
function cpuMs(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Serves the page-render Worker under Miniflare (a fresh isolate each time) and hands `use` a render function. */
async function withWorker<T>(script: string, use: (render: (count: number) => Promise<{ cpu: number; bytes: number }>) => Promise<T>): Promise<T> {
  const config = await workerConfig(join(ROOT, 'relay', 'wrangler.jsonc'));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: 0,
      cf: false,
      log: new Log(LogLevel.WARN),
      name: 'page-render',
      modules: true,
      script,
      compatibilityDate: config.compatibility_date,
      compatibilityFlags: config.compatibility_flags ?? [],
    }),
  );
  try {
    const url = await mf.ready;
    const pid = listenerPid(Number(url.port));
    if (pid === null) throw new Error('no workerd process listens for the page-render Worker');
    const body = (count: number): string => JSON.stringify({ page: largestPage(), renders: count });
    return await use(async (count) => {
      const request = body(count);
      const before = cpuMs(pid);
      const response = await fetch(url, { method: 'POST', body: request });
      const answer = (await response.json()) as { bytes: number };
      if (!response.ok) throw new Error(`the page-render Worker answered ${response.status}`);
      return { cpu: cpuMs(pid) - before, bytes: answer.bytes };
    });
  } finally {
    await mf.dispose();
  }
}

export async function measurePageRender(renders = 40, rounds = 7, isolates = 5): Promise<PageRender> {
  const bundle = await build({
    stdin: { contents: WORKER_SOURCE, resolveDir: ROOT, sourcefile: 'page-render-worker.js', loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2024',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    external: ['node:*', 'cloudflare:*'],
    write: false,
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]?.text;
  if (!script) throw new Error('esbuild produced no page-render Worker');
  // Cold: a fresh isolate each time; an empty request first, so its start-up is not counted.
  const cold: number[] = [];
  let htmlBytes = 0;
  for (let i = 0; i < isolates; i++) {
    await withWorker(script, async (render) => {
      const empty = await render(0);
      const first = await render(1);
      htmlBytes = first.bytes;
      cold.push(Math.max(0, first.cpu - empty.cpu));
    });
  }
  const warm = await withWorker(script, async (render) => {
    await render(renders); // warm-up: JIT
    const perRender: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const empty = await render(0);
      const full = await render(renders);
      perRender.push((full.cpu - empty.cpu) / renders);
    }
    return perRender;
  });
  return {
    htmlBytes,
    shape: `${MAX_GATES_SHOWN} of ${num(MAX_GATES_PER_RUN)} gates shown, ${MAX_REPORTS_SHOWN} reports and ${MAX_OUTPUTS_SHOWN} outputs each, a ${MAX_GRAPH_TARGETS}-target graph`,
    warmCpuMs: distribution(warm),
    coldCpuMs: distribution(cold),
    rendersPerRound: renders,
    rounds,
  };
}
