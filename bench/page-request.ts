/**
 * The approval page as served (issue 14, beside bench/page-render.ts): a run on the relay under
 * Miniflare holds MAX_GATES_PER_RUN gates on one target, the approval gate in the middle, and the
 * gates its page shows carry the longest messages, MAX_REPORTS_SHOWN + 1 progress reports of
 * MAX_MESSAGE_CHARS and the most outputs a decision may carry; the run's graph has
 * MAX_GRAPH_TARGETS targets. The workerd CPU of GET /approve/<token> (the Worker, the Durable
 * Object's reads and RPC, and the render) is read from /proc around each request.
 */
import { mapLimit } from './stats.ts';
import { workerdCpuReader } from './processes.ts';
import { MAX_GATES_PER_RUN, MAX_GRAPH_TARGETS, MAX_MESSAGE_CHARS, MAX_OUTPUT_KEYS } from '../shared/protocol.ts';
import { RegisterGateResponse } from '../shared/protocol.ts';
import { MAX_GATES_SHOWN, MAX_REPORTS_SHOWN } from '../relay/run/page-limits.ts';
import { distribution } from './stats.ts';
import type { Distribution } from './stats.ts';
import type { RelayTarget } from './relay-gates.ts';

export interface PageRequest {
  gates: number;
  htmlBytes: number;
  /** workerd CPU of the first GET of the page (the page code's first run in this isolate), 10 ms ticks. */
  firstCpuMs: number;
  /** workerd CPU per GET once warm: `requests` GETs, CPU ÷ requests, per round. */
  warmCpuMs: Distribution;
  requests: number;
}

const RUN_ID = 'bench/largest-page';
const TARGET = 'prod';

/** Graph names as long as a 64 KiB registration body allows beside the rest. */
function runInfo(): Record<string, unknown> {
  const name = (i: number): string => `${'<t&'.repeat(40)}-${i}`;
  const graph = Array.from({ length: MAX_GRAPH_TARGETS }, (_, i) => ({ name: i === 0 ? TARGET : name(i), dependsOn: i === 0 ? [] : [i === 1 ? TARGET : name(i - 1)] }));
  return { application: '<app&>'.repeat(30), repository: 'acme/potato-facts', sha: '0123456789abcdef0123456789abcdef01234567', ref: 'refs/heads/main', actor: 'octocat', runUrl: 'https://github.com/acme/potato-facts/actions/runs/1', graph };
}

async function post(url: string, body: unknown, token?: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : null };
}

async function register(relay: RelayTarget, index: number, kind: 'webhook' | 'approval'): Promise<RegisterGateResponse> {
  const body = { runId: RUN_ID, stepKey: `prod/strategy/${index}`, target: TARGET, phase: 'strategy', name: `<Gate ${index}&>`, timeoutSeconds: 3600, kind, run: runInfo() };
  const answer = await post(`${relay.url}/v1/gates`, body, relay.token);
  if (answer.status !== 201 && answer.status !== 200) throw new Error(`register answered ${answer.status}: ${JSON.stringify(answer.json).slice(0, 300)}`);
  return RegisterGateResponse.parse(answer.json);
}

/** The longest message: Markdown-heavy (runs of `[`) or escape-heavy plain text. */
const message = (heavy: boolean): string => (heavy ? '[a]('.repeat(MAX_MESSAGE_CHARS / 4) : '<b>&"x\'</b> '.repeat(MAX_MESSAGE_CHARS / 12)).slice(0, MAX_MESSAGE_CHARS);

/** Fills the shown gates: reports first (a decided gate takes none), then every other one decided with outputs. */
async function fill(gate: RegisterGateResponse, index: number): Promise<void> {
  const heavy = index % 3 === 0;
  for (let i = 0; i <= MAX_REPORTS_SHOWN; i++) {
    const answer = await post(`${gate.callbackUri}/callback`, { progress: true, mdMessage: message(heavy) });
    if (answer.status !== 200) throw new Error(`a progress report answered ${answer.status}`);
  }
  if (index % 2 === 1) return;
  // As many outputs as the 64 KiB callback body leaves room for beside the message.
  const outputs = Object.fromEntries(Array.from({ length: MAX_OUTPUT_KEYS }, (_, i) => [`key_${i}_${'k'.repeat(50)}`, '<&>"'.repeat(120)]));
  const answer = await post(`${gate.callbackUri}/callback`, { success: true, mdMessage: message(heavy).slice(0, 8000), outputs });
  if (answer.status !== 200) throw new Error(`a decision answered ${answer.status}: ${JSON.stringify(answer.json).slice(0, 300)}`);
}

export async function measurePageRequest(relay: RelayTarget & { port: number }, requests = 20, rounds = 5): Promise<PageRequest> {
  const half = MAX_GATES_PER_RUN / 2;
  // created_at orders a target's gates: the first half, the approval, then the rest.
  const before = await mapLimit(Array.from({ length: half }, (_, i) => i), 16, (i) => register(relay, i, 'webhook'));
  const approval = await register(relay, half, 'approval');
  const after = await mapLimit(Array.from({ length: MAX_GATES_PER_RUN - half - 1 }, (_, i) => half + 1 + i), 16, (i) => register(relay, i, 'webhook'));
  const around = [...before.slice(-Math.ceil(MAX_GATES_SHOWN / 2)), ...after.slice(0, Math.ceil(MAX_GATES_SHOWN / 2))];
  await mapLimit(around, 4, (gate, i) => fill(gate, i));
  if (!approval.approvalUrl) throw new Error('the approval gate came without its approvalUrl');
  const cpu = workerdCpuReader(relay.port);
  const get = async (): Promise<number> => {
    const response = await fetch(approval.approvalUrl as string);
    const html = await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`the approval page answered ${response.status}`);
    return html.byteLength;
  };
  const start = cpu();
  const htmlBytes = await get();
  const firstCpuMs = cpu() - start;
  const warm: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const from = cpu();
    for (let i = 0; i < requests; i++) await get();
    warm.push((cpu() - from) / requests);
  }
  return { gates: MAX_GATES_PER_RUN, htmlBytes, firstCpuMs, warmCpuMs: distribution(warm), requests };
}
