/**
 * Fuzzing the callback endpoint (`POST /cb/:token` and `/cb/:token/callback`, SPEC §3) inside
 * workerd. Each gate gets at most 50 requests (the relay limits callbacks per gate per minute),
 * and a model of it: what it must answer is worked out from SPEC §3 by callbackMeaning, not by
 * the relay's code. Never a 5xx, every error JSON `{error, message}`, an invalid request never
 * decides a pending gate, a decided gate's decision never changes (read back through the
 * action's long-poll endpoint).
 *
 * Replay with VITE_HOOKGATE_FUZZ_SEED=<seed> (vite passes only VITE_* variables into workerd);
 * a failure names the gate and request index.
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { GateView } from '../../../shared/protocol.ts';
import { callbackBody, callbackMeaning } from '../../support/fuzz-callback-body.ts';
import type { CallbackMeaning } from '../../support/fuzz-callback-body.ts';
import { answerProblem, bodyHeaders, clientRefused, OTHER_METHODS, readJsonBody, requestBody, StatusTally } from '../../support/fuzz-http.ts';
import type { FuzzBody } from '../../support/fuzz-http.ts';
import { caseRng, fuzzSeed, isRecord } from '../../support/fuzz-random.ts';
import type { Rng } from '../../support/fuzz-random.ts';
import { decide, fetchGate, newRunId, postCancel, register } from '../helpers.ts';

const SEED = fuzzSeed((import.meta as { env?: Record<string, string | undefined> }).env?.VITE_HOOKGATE_FUZZ_SEED, 20_261_117);
const RUNS = 12;
const GATES_PER_RUN = 10;
/** Fuzz requests per gate: with the set-up and the read-back, under 50 (the limit is 60 a minute). */
const REQUESTS_PER_GATE = 45;
const PARALLEL_GATES = 6;

type State = 'pending' | 'succeeded' | 'failed' | 'canceled';

interface Model {
  index: number;
  runId: string;
  gateId: string;
  callbackUri: string;
  state: State;
  message: string | null;
  progress: string[];
}

/** A body's meaning: SPEC §3's, or SPEC §11's bare heartbeat. */
type Meaning = CallbackMeaning | { kind: 'heartbeat' };

/**
 * The shared oracle's meaning, with SPEC §11's bare heartbeat: `progress: true` with no mdMessage
 * (and no success or outputs) is a valid report that stores nothing.
 */
function meaningOf(body: FuzzBody): Meaning {
  const meaning = callbackMeaning(body);
  if (meaning.kind !== 'invalid') return meaning;
  const read = readJsonBody(body);
  if (!read.ok || !isRecord(read.value)) return meaning;
  const value = read.value;
  const others = ['mdMessage', 'success', 'outputs'].some((key) => Object.hasOwn(value, key));
  return Object.hasOwn(value, 'progress') && value.progress === true && !others ? { kind: 'heartbeat' } : meaning;
}

/** What a valid callback must get from a gate in this state (SPEC §3), and the state after it. */
function expected(model: Model, meaning: Meaning): number {
  if (meaning.kind === 'too-large') return 413;
  if (meaning.kind === 'invalid') return 400;
  if (model.state === 'canceled') return 410;
  if (meaning.kind === 'progress' || meaning.kind === 'heartbeat') return model.state === 'pending' ? 200 : 409;
  const state = meaning.success ? 'succeeded' : 'failed';
  if (model.state === 'pending') return 200;
  return model.state === state ? 200 : 409;
}

function apply(model: Model, meaning: Meaning): void {
  if (meaning.kind === 'progress' && model.state === 'pending') model.progress.push(meaning.message);
  if (meaning.kind === 'decision' && model.state === 'pending') {
    model.state = meaning.success ? 'succeeded' : 'failed';
    model.message = meaning.message;
  }
}

/** The request's target: the URI as rendered, with `/callback`, or a path the routes must refuse. */
function target(rng: Rng, uri: string): { url: string; routed: boolean; endpoint: string } {
  return rng.weighted([
    [10, { url: uri, routed: true, endpoint: '/cb/:token' }],
    [10, { url: `${uri}/callback`, routed: true, endpoint: '/cb/:token/callback' }],
    [1, { url: `${uri}?source=fuzz&success=false`, routed: true, endpoint: '/cb/:token?query' }],
    [0.3, { url: `${uri}/`, routed: false, endpoint: 'odd: /cb/:token/' }],
    [0.3, { url: `${uri}/callback/`, routed: false, endpoint: 'odd: /cb/:token/callback/' }],
    [0.3, { url: `${uri}/callback/callback`, routed: false, endpoint: 'odd: /cb/:token/callback/callback' }],
    [0.3, { url: `${uri}/approve`, routed: false, endpoint: 'odd: /cb/:token/approve' }],
    [0.3, { url: uri.replace('/cb/', '/CB/'), routed: false, endpoint: 'odd: /CB/:token' }],
    [0.3, { url: uri.replace('/cb/', '/cb//'), routed: false, endpoint: 'odd: /cb//:token' }],
    [0.3, { url: `${uri}%2Fcallback`, routed: false, endpoint: 'odd: /cb/:token%2Fcallback' }],
  ]);
}

async function readBack(model: Model): Promise<GateView> {
  // wait=0: the long-poll endpoint answers at once with the stored view.
  const res = await fetchGate(model.runId, model.gateId, 0);
  expect(res.status).toBe(200);
  return GateView.parse(await res.json());
}

async function setUp(index: number, runId: string): Promise<Model> {
  const gate = await register({ runId, stepKey: `fuzz/${index}`, name: `Fuzz-${index}` });
  const model: Model = { index, runId, gateId: gate.gateId, callbackUri: gate.callbackUri, state: 'pending', message: null, progress: [] };
  const rng = caseRng(SEED, 'callback-setup', index);
  const start = rng.weighted<string>([[5, 'pending'], [1, 'progress'], [1.5, 'succeeded'], [1.5, 'failed'], [1, 'canceled']]);
  if (start === 'progress') {
    await decide(gate.callbackUri, { progress: true, mdMessage: 'set-up report' });
    model.progress.push('set-up report');
  } else if (start === 'succeeded' || start === 'failed') {
    await decide(gate.callbackUri, { success: start === 'succeeded', mdMessage: `set up ${start}` });
    model.state = start;
    model.message = `set up ${start}`;
  } else if (start === 'canceled') {
    const res = await postCancel({ runId, gateIds: [gate.gateId], reason: 'set up canceled' });
    expect(res.status).toBe(200);
    model.state = 'canceled';
    model.message = 'set up canceled';
  }
  return model;
}

describe('the callback endpoint under fuzzing', () => {
  it(`keeps SPEC §3 for ${RUNS * GATES_PER_RUN} gates × ${REQUESTS_PER_GATE} random requests`, async () => {
    const started = performance.now();
    const tally = new StatusTally();
    const byBody = new Map<string, number>();
    const problems: string[] = [];
    let decidedByFuzz = 0;
    let refusedInvalid = 0;
    let invalidOnPending = 0;

    const models: Model[] = [];
    for (let r = 0; r < RUNS; r++) {
      const runId = newRunId(`fuzz-callback-${r}`);
      models.push(...(await Promise.all(Array.from({ length: GATES_PER_RUN }, (_, g) => setUp(r * GATES_PER_RUN + g, runId)))));
    }

    const fuzzGate = async (model: Model): Promise<void> => {
      const rng = caseRng(SEED, 'callback', model.index);
      for (let i = 0; i < REQUESTS_PER_GATE; i++) {
        const where = `seed ${SEED}, gate #${model.index} request #${i}`;
        // Every other gate rarely gets a valid decision: invalid bodies must meet pending gates too.
        const body = callbackBody(rng, model.index % 2 === 0 ? 0.05 : 1);
        const method = rng.chance(0.1) ? rng.pick(OTHER_METHODS) : 'POST';
        const { url, routed, endpoint } = target(rng, model.callbackUri);
        const normalized = ['post', 'get', 'head', 'put', 'delete', 'options'].includes(method.toLowerCase()) ? method.toUpperCase() : method;
        const hasBody = normalized !== 'GET' && normalized !== 'HEAD';
        let res: Response;
        try {
          res = await SELF.fetch(url, { method, headers: hasBody ? bodyHeaders(body) : {}, ...(hasBody ? { body: requestBody(body) } : {}) });
        } catch (error) {
          if (!clientRefused(error)) throw error;
          tally.add(`${method} (refused by fetch, not sent)`, 0);
          continue;
        }
        tally.add(`${normalized} ${endpoint}`, res.status);
        byBody.set(body.label, (byBody.get(body.label) ?? 0) + 1);
        const answer = normalized === 'HEAD' ? '' : await res.clone().text();
        const problem = await answerProblem(res, normalized, 'json');
        if (problem) problems.push(`${where}: ${normalized} ${endpoint} ${body.label}: ${problem}`);

        const meaning = meaningOf(body);
        if (!routed || normalized !== 'POST') {
          if (res.status < 400) problems.push(`${where}: ${normalized} ${endpoint} answered ${res.status}; only POST on the callback URI may`);
          continue;
        }
        if (res.status === 429) continue; // The rate limit refused it: nothing changed.
        const want = expected(model, meaning);
        if (res.status !== want) {
          problems.push(`${where}: ${body.label} (${meaning.kind}) on a ${model.state} gate got ${res.status} ${answer.slice(0, 200)}, SPEC §3 says ${want}; body (${body.bytes.length} bytes${body.stream ? ', streamed' : ''}) ${JSON.stringify(new TextDecoder().decode(body.bytes.slice(0, 120)))}`);
        }
        if (meaning.kind === 'invalid' || meaning.kind === 'too-large') {
          refusedInvalid++;
          if (model.state === 'pending') invalidOnPending++;
        }
        if (res.status === 200) {
          if (meaning.kind === 'decision' && model.state === 'pending') decidedByFuzz++;
          apply(model, meaning);
        }
      }
      const view = await readBack(model);
      const got = { state: view.state, message: view.message, progress: view.progress.map((p) => p.message) };
      const want = { state: model.state, message: model.message, progress: model.progress.slice(-50) };
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        problems.push(`seed ${SEED}, gate #${model.index}: stored ${JSON.stringify(got).slice(0, 300)}, the model says ${JSON.stringify(want).slice(0, 300)}`);
      }
      if ((view.decidedAt === null) !== (view.state === 'pending')) problems.push(`gate #${model.index}: decidedAt ${view.decidedAt} with state ${view.state}`);
    };

    for (let at = 0; at < models.length; at += PARALLEL_GATES) {
      await Promise.all(models.slice(at, at + PARALLEL_GATES).map(fuzzGate));
    }

    const states = new Map<string, number>();
    for (const m of models) states.set(m.state, (states.get(m.state) ?? 0) + 1);
    console.log(
      [
        tally.format(`callback fuzz (seed ${SEED})`, performance.now() - started),
        `  body kinds: ${[...byBody].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', ')}`,
        `  decided by a fuzz request ${decidedByFuzz}, refused as invalid or too large ${refusedInvalid} (${invalidOnPending} of them on a pending gate); gates at the end: ${[...states].map(([s, n]) => `${s} ${n}`).join(', ')}`,
      ].join('\n'),
    );
    expect(problems.slice(0, 30), problems.slice(0, 30).join('\n')).toEqual([]);
    expect(tally.total).toBe(RUNS * GATES_PER_RUN * REQUESTS_PER_GATE);
    // The fuzz must reach both sides of the oracle, or it checks only one.
    expect(decidedByFuzz).toBeGreaterThan(0);
    expect(invalidOnPending).toBeGreaterThan(200);
  }, 300_000);
});
