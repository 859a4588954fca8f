/**
 * Fuzzing the action's routes inside workerd: register (`POST /v1/gates`), read a gate
 * (`GET /v1/gates/:id`), cancel, target report and read, every method on every route and on odd
 * paths, and the Authorization header. Bodies are valid requests with fields swapped for other
 * types, dropped or added, and bodies broken on the way. Never a 5xx; every error JSON
 * `{error, message}`; valid requests answered as the protocol says; and no request of any kind
 * changes a gate of the runs it must not touch (read back at the end).
 *
 * Replay with VITE_HOOKGATE_FUZZ_SEED=<seed>; a failure names the part and request index.
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import {
  CancelRunRequest,
  CancelRunResponse,
  GateView,
  RegisterGateRequest,
  RegisterGateResponse,
  ReportTargetRequest,
  RunId,
  TargetName,
  TargetRecord,
} from '../../../shared/protocol.ts';
import {
  answerProblem,
  bodyHeaders,
  clientRefused,
  jsonRequestBody,
  mutateFields,
  OTHER_METHODS,
  requestBody,
  StatusTally,
} from '../../support/fuzz-http.ts';
import type { FuzzBody } from '../../support/fuzz-http.ts';
import { asciiString, caseRng, fuzzSeed, randomJsonText, unicodeString } from '../../support/fuzz-random.ts';
import { authHeaders, BASE, decide, fetchGate, gateRequest, newRunId, register, RELAY_TOKEN, RUN_INFO } from '../helpers.ts';
import {
  CANCEL_CHOICES,
  expectedFor,
  PATHS,
  REGISTER_CHOICES,
  refusedBody,
  TARGET_CHOICES,
  waitOk,
  WAITS,
} from './fuzz-api-cases.ts';

const SEED = fuzzSeed((import.meta as { env?: Record<string, string | undefined> }).env?.VITE_HOOKGATE_FUZZ_SEED, 20_261_117);

const tally = new StatusTally();
const problems: string[] = [];

interface Sent {
  res: Response;
  /** The body read already (answerProblem reads it), parsed when JSON. */
  json: unknown;
}

/** Sends one request, checks the answer's shape, counts it; null when fetch would not send it. */
async function send(where: string, endpoint: string, url: string, init: RequestInit): Promise<Sent | null> {
  let res: Response;
  try {
    res = await SELF.fetch(url, { redirect: 'manual', ...init });
  } catch (error) {
    if (!clientRefused(error)) throw error;
    tally.add(`${init.method ?? 'GET'} (refused by fetch, not sent)`, 0);
    return null;
  }
  tally.add(endpoint, res.status);
  const copy = res.clone();
  const problem = await answerProblem(res, init.method ?? 'GET', new URL(url).pathname.startsWith('/approve/') ? 'either' : 'json');
  if (problem) problems.push(`${where}: ${endpoint}: ${problem}`);
  let json: unknown = null;
  if ((init.method ?? 'GET').toUpperCase() !== 'HEAD') {
    try {
      json = JSON.parse(await copy.text());
    } catch {
      json = null;
    }
  }
  return { res: copy, json };
}

function post(body: FuzzBody, headers: Record<string, string> = { authorization: `Bearer ${RELAY_TOKEN}` }): RequestInit {
  return { method: 'POST', headers: { ...headers, ...bodyHeaders(body) }, body: requestBody(body) };
}

function check(where: string, ok: boolean, message: string): void {
  if (!ok) problems.push(`${where}: ${message}`);
}

/** Runs the fuzz may do anything to: their gates are nobody's concern. */
const scratchRuns = Array.from({ length: 40 }, (_, i) => newRunId(`fuzz-api-scratch-${i}`));

/** Runs whose gates no fuzz request may change: only refused requests are sent about them. */
interface Guarded {
  runId: string;
  gateId: string;
  state: string;
  message: string | null;
}

describe('the action routes under fuzzing', () => {
  it('answer every random, malformed or unauthenticated request within the protocol, and leave guarded runs alone', async () => {
    const started = performance.now();
    const counts = { register: 0, registered: 0, cancel: 0, targetReport: 0, targetRead: 0, gateRead: 0, matrix: 0, auth: 0, skipped: 0 };

    // Guarded runs: pending and decided gates no request below may change.
    const guarded: Guarded[] = [];
    for (let r = 0; r < 3; r++) {
      const runId = newRunId(`fuzz-api-guarded-${r}`);
      for (let g = 0; g < 6; g++) {
        const gate = await register({ runId, stepKey: `guarded/${g}`, target: 'staging' });
        const entry: Guarded = { runId, gateId: gate.gateId, state: 'pending', message: null };
        if (g % 3 === 2) {
          await decide(gate.callbackUri, { success: g % 2 === 0, mdMessage: 'guarded decision' });
          Object.assign(entry, { state: g % 2 === 0 ? 'succeeded' : 'failed', message: 'guarded decision' });
        }
        guarded.push(entry);
      }
    }

    // POST /v1/gates: valid requests with fields swapped, dropped or added, and broken bodies, on scratch runs.
    for (let i = 0; i < 1500; i++) {
      const rng = caseRng(SEED, 'register', i);
      const where = `seed ${SEED}, register #${i}`;
      const base = gateRequest({ runId: rng.pick(scratchRuns), stepKey: `fuzz/${i}`, ...(rng.chance(0.3) ? { run: RUN_INFO } : {}) });
      const body = jsonRequestBody(rng, mutateFields(rng, { ...base }, REGISTER_CHOICES), 0.85);
      const badAuth = rng.chance(0.08);
      const sent = await send(where, 'POST /v1/gates', `${BASE}/v1/gates`, post(body, badAuth ? { authorization: 'Bearer wrong' } : authHeaders()));
      counts.register++;
      if (!sent) continue;
      const want = badAuth ? ({ status: 401 } as const) : expectedFor(body, RegisterGateRequest);
      if (want.status === 'valid') {
        check(where, [200, 201, 409, 422].includes(sent.res.status), `a valid registration got ${sent.res.status}: ${JSON.stringify(sent.json).slice(0, 200)}`);
        if (sent.res.status === 200 || sent.res.status === 201) {
          counts.registered++;
          const answer = RegisterGateResponse.safeParse(sent.json);
          check(where, answer.success && answer.data.runId === want.value.runId && answer.data.stepKey === want.value.stepKey, `the answer is not this gate's: ${JSON.stringify(sent.json).slice(0, 200)}`);
          check(where, answer.success && (answer.data.approvalUrl === null) === (want.value.kind === 'webhook'), 'an approval URL for a webhook gate, or none for an approval gate');
        }
      } else {
        check(where, sent.res.status === want.status, `${body.label} body answered ${sent.res.status}, not ${want.status}: ${JSON.stringify(sent.json).slice(0, 200)}`);
      }
    }

    // POST /v1/runs/cancel: anything on scratch runs; only refused bodies about guarded runs.
    for (let i = 0; i < 700; i++) {
      const rng = caseRng(SEED, 'cancel', i);
      const where = `seed ${SEED}, cancel #${i}`;
      const aboutGuarded = rng.chance(0.5);
      const runId = aboutGuarded ? rng.pick(guarded).runId : rng.pick(scratchRuns);
      const valid: Record<string, unknown> = { runId, ...(rng.chance(0.5) ? { reason: asciiString(rng, 30) } : {}) };
      const body = aboutGuarded ? refusedBody(rng, valid, CancelRunRequest) : jsonRequestBody(rng, mutateFields(rng, valid, CANCEL_CHOICES), 0.85);
      if (!body) {
        counts.skipped++;
        continue;
      }
      const sent = await send(where, 'POST /v1/runs/cancel', `${BASE}/v1/runs/cancel`, post(body));
      counts.cancel++;
      if (!sent) continue;
      const want = expectedFor(body, CancelRunRequest);
      if (want.status === 'valid') {
        check(where, sent.res.status === 200 && CancelRunResponse.safeParse(sent.json).success, `a valid cancel got ${sent.res.status}: ${JSON.stringify(sent.json).slice(0, 200)}`);
      } else {
        check(where, sent.res.status === want.status, `${body.label} body answered ${sent.res.status}, not ${want.status}`);
      }
    }

    // POST /v1/runs/targets: likewise.
    for (let i = 0; i < 500; i++) {
      const rng = caseRng(SEED, 'target-report', i);
      const where = `seed ${SEED}, target report #${i}`;
      const aboutGuarded = rng.chance(0.4);
      const runId = aboutGuarded ? rng.pick(guarded).runId : rng.pick(scratchRuns);
      const valid: Record<string, unknown> = { runId, target: rng.pick(['staging', 'prod', 'dev']), attempt: rng.pick([1, 1, 2]), status: rng.pick(['running', 'succeeded', 'failed']), message: asciiString(rng, 20) };
      const body = aboutGuarded ? refusedBody(rng, valid, ReportTargetRequest) : jsonRequestBody(rng, mutateFields(rng, valid, TARGET_CHOICES), 0.85);
      if (!body) {
        counts.skipped++;
        continue;
      }
      const sent = await send(where, 'POST /v1/runs/targets', `${BASE}/v1/runs/targets`, post(body));
      counts.targetReport++;
      if (!sent) continue;
      const want = expectedFor(body, ReportTargetRequest);
      if (want.status === 'valid') {
        check(where, [200, 409].includes(sent.res.status), `a valid report got ${sent.res.status}: ${JSON.stringify(sent.json).slice(0, 200)}`);
        if (sent.res.status === 200) check(where, TargetRecord.safeParse(sent.json).success, 'the answer is not a target record');
      } else {
        check(where, sent.res.status === want.status, `${body.label} body answered ${sent.res.status}, not ${want.status}`);
      }
    }

    // GET /v1/runs/targets and GET /v1/gates/:id with odd queries; a valid wait is always under a millisecond.
    for (let i = 0; i < 600; i++) {
      const rng = caseRng(SEED, 'reads', i);
      const where = `seed ${SEED}, read #${i}`;
      const guard = rng.pick(guarded);
      const run = rng.weighted<string | undefined>([[6, guard.runId], [3, rng.pick(scratchRuns)], [1, undefined], [1, ''], [1, 'a b'], [1, 'x'.repeat(201)], [1, unicodeString(rng, 6)]]);
      const wait = rng.weighted<string | undefined>([[4, undefined], [6, rng.pick(WAITS)]]);
      const query = new URLSearchParams();
      if (run !== undefined) query.set('run', run);
      if (wait !== undefined) query.set('wait', wait);
      const runOk = RunId.safeParse(run).success;
      if (i % 2 === 0) {
        const target = rng.weighted<string | undefined>([[6, rng.pick(['staging', 'prod'])], [1, undefined], [1, ''], [1, 't'.repeat(201)], [1, unicodeString(rng, 6)]]);
        if (target !== undefined) query.set('target', target);
        const sent = await send(where, 'GET /v1/runs/targets', `${BASE}/v1/runs/targets?${query}`, { headers: authHeaders() });
        counts.targetRead++;
        if (!sent) continue;
        const valid = runOk && TargetName.safeParse(target).success && waitOk(wait);
        check(where, sent.res.status === (valid ? 200 : 400), `run=${run} target=${target} wait=${wait} answered ${sent.res.status}`);
        if (sent.res.status === 200) check(where, TargetRecord.safeParse(sent.json).success, 'the answer is not a target record');
      } else {
        const gateId = rng.weighted<string>([[6, guard.gateId], [2, 'AAAAAAAAAAAAAAAAAAAAAA'], [1, 'short'], [1, encodeURIComponent(unicodeString(rng, 5).toWellFormed())]]);
        const sent = await send(where, 'GET /v1/gates/:id', `${BASE}/v1/gates/${gateId}?${query}`, { headers: authHeaders() });
        counts.gateRead++;
        if (!sent) continue;
        const known = gateId === guard.gateId && run === guard.runId;
        const want = !runOk ? 400 : !/^[A-Za-z0-9_-]{22}$/.test(gateId) ? 404 : !waitOk(wait) ? 400 : known ? 200 : 404;
        check(where, sent.res.status === want, `gate ${gateId} run=${run} wait=${wait} answered ${sent.res.status}, not ${want}`);
        if (sent.res.status === 200) check(where, GateView.safeParse(sent.json).success, 'the answer is not a gate view');
      }
    }

    // Every method on every path, with and without the token, with a small random body.
    let m = 0;
    for (const path of PATHS) {
      for (const method of ['GET', 'POST', ...OTHER_METHODS.filter((x) => x !== 'GET')]) {
        for (const auth of [true, false]) {
          const rng = caseRng(SEED, 'matrix', m++);
          const hasBody = !['GET', 'HEAD'].includes(method.toUpperCase());
          const body = jsonRequestBody(rng, randomJsonText(rng, 3), 0.5);
          const headers = { ...(auth ? authHeaders() : {}), ...(hasBody ? bodyHeaders(body) : {}) };
          await send(`seed ${SEED}, matrix #${m - 1} ${method} ${path.slice(0, 60)}`, `matrix ${auth ? 'with' : 'without'} token`, `${BASE}${path}`, {
            method,
            headers,
            ...(hasBody ? { body: requestBody(body) } : {}),
          });
          counts.matrix++;
        }
      }
    }

    // The Authorization header: spellings of the token, and everything else, JWT-shaped junk included.
    const b64 = (text: string): string =>
      btoa(String.fromCharCode(...new TextEncoder().encode(text.toWellFormed()))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    for (let i = 0; i < 300; i++) {
      const rng = caseRng(SEED, 'auth', i);
      const header = rng.weighted<string | undefined>([
        [3, `Bearer ${RELAY_TOKEN}`], [1, `bearer ${RELAY_TOKEN}`], [1, `BEARER   ${RELAY_TOKEN}`], [1, `Bearer\t${RELAY_TOKEN}`], [1, undefined], [1, ''], [1, 'Bearer'],
        [1, 'Bearer '], [1, `Basic ${btoa(`x:${RELAY_TOKEN}`)}`], [1, RELAY_TOKEN], [1, `Bearer ${RELAY_TOKEN} x`], [1, `Bearer ${RELAY_TOKEN}x`],
        [1, `Bearer ${RELAY_TOKEN.toUpperCase()}`], [1, `Bearer "${RELAY_TOKEN}"`], [1, `Bearer ${'t'.repeat(8000)}`], [1, `Bearer ${asciiString(rng, 60).replace(/\s/g, '')}`],
        [2, `Bearer ${b64(randomJsonText(rng, 2))}.${b64(randomJsonText(rng, 2))}.${b64(asciiString(rng, 40))}`],
        [1, `Bearer ${b64('{"alg":"none","typ":"JWT"}')}.${b64(JSON.stringify({ repository: 'acme/potato-facts', repository_id: '1', repository_owner: 'acme', exp: 9e9 }))}.`],
        [1, `Bearer ${b64('{"alg":"HS256","kid":"x"}')}.${b64('{"exp":9999999999}')}.${b64('sig')}`],
        [1, `Bearer ${b64('{"alg":"RS256","kid":"../../etc/passwd"}')}.${b64('{}')}.${b64('sig')}`],
        [1, `Bearer a.b.c`], [1, `Bearer ...`], [1, `Bearer ${'a.'.repeat(500)}a`],
      ]);
      const tokenOk = header !== undefined && /^Bearer\s+(\S+)\s*$/i.exec(header.trim())?.[1] === RELAY_TOKEN;
      const runId = rng.pick(scratchRuns);
      const sent = await send(`seed ${SEED}, auth #${i} ${JSON.stringify(header?.slice(0, 80))}`, 'GET /v1/runs/targets (auth)', `${BASE}/v1/runs/targets?run=${encodeURIComponent(runId)}&target=staging`, {
        headers: header === undefined ? {} : { authorization: header },
      });
      counts.auth++;
      if (!sent) continue;
      check(`auth #${i} ${JSON.stringify(header?.slice(0, 80))}`, sent.res.status === (tokenOk ? 200 : 401), `answered ${sent.res.status}: ${JSON.stringify(sent.json).slice(0, 200)}`);
    }

    // Nothing above may have touched a guarded gate.
    for (const g of guarded) {
      const res = await fetchGate(g.runId, g.gateId, 0);
      expect(res.status).toBe(200);
      const view = GateView.parse(await res.json());
      check(`guarded gate ${g.gateId}`, view.state === g.state && view.message === g.message, `is ${view.state} (${view.message}), was ${g.state} (${g.message})`);
    }

    console.log(
      [
        tally.format(`action routes fuzz (seed ${SEED})`, performance.now() - started),
        `  sent: ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ')}; guarded gates ${guarded.length}`,
      ].join('\n'),
    );
    expect(problems.slice(0, 30), problems.slice(0, 30).join('\n')).toEqual([]);
    expect(counts.registered).toBeGreaterThan(100);
  }, 300_000);
});
