/**
 * Fuzzing the approval page (`GET`/`POST /approve/:token`, SPEC §4) inside workerd: forms with
 * every field and header right, wrong, missing or doubled; other methods; raw and oversized
 * bodies. The oracle is SPEC §4 worked out here: a POST decides only with the page's own
 * anti-forgery token and cookie, from no other origin, as a form with one decision and fields
 * within their limits; GET never decides. Never a 5xx, every answer a page with its security
 * headers (or the JSON 404 of a route that does not exist), the first decision stands.
 *
 * Replay with VITE_HOOKGATE_FUZZ_SEED=<seed>; a failure names the gate and request index.
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { GateView, MAX_APPROVER_CHARS, MAX_COMMENT_CHARS } from '../../../shared/protocol.ts';
import { answerProblem, BODY_LIMIT, clientRefused, requestBody, StatusTally } from '../../support/fuzz-http.ts';
import type { FuzzBody } from '../../support/fuzz-http.ts';
import { asciiString, caseRng, fuzzSeed } from '../../support/fuzz-random.ts';
import type { Rng } from '../../support/fuzz-random.ts';
import { formBody, formFields } from './fuzz-form.ts';
import type { Credentials } from './fuzz-form.ts';
import { BASE, fetchGate, newRunId, openApproval, postCancel, registerApproval, submitPage, tokenOf } from '../helpers.ts';

const SEED = fuzzSeed((import.meta as { env?: Record<string, string | undefined> }).env?.VITE_HOOKGATE_FUZZ_SEED, 20_261_117);
const GATES = 64;
/** With the set-up and the read-back, under the 60 a minute the relay takes per gate. */
const REQUESTS_PER_GATE = 42;
const PARALLEL_GATES = 4;
const NONCE = /^[A-Za-z0-9_-]{22}$/;
const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(;|$)/i;

type State = 'pending' | 'succeeded' | 'failed' | 'canceled';

interface Model {
  index: number;
  runId: string;
  gateId: string;
  url: string;
  callbackUri: string;
  nonce: string;
  csrf: string;
  state: State;
  message: string | null;
  decidedBy: string | null;
}

/** One request of the fuzz, with what SPEC §4 says it is. */
interface Planned {
  label: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: FuzzBody;
  /** For a POST: the decision it carries if it is a valid one. */
  decision?: { approved: boolean; comment: string; approver: string };
  /** The URL is the gate's real approval URL. */
  real: boolean;
}

/** The first well-formed anti-forgery nonce of a Cookie header, as a browser's cookie jar would give it. */
function cookieNonce(cookie: string | undefined): string | null {
  for (const part of (cookie ?? '').split(';')) {
    const [name, ...value] = part.split('=');
    if (name?.trim() === 'hookgate_csrf' && NONCE.test(value.join('=').trim())) return value.join('=').trim();
  }
  return null;
}

/** SPEC §4's reading of a POST: the decision it validly carries, or undefined. */
function validDecision(plan: Planned, own: Credentials): Planned['decision'] {
  const body = plan.body;
  if (!body) return undefined;
  const type = plan.headers['content-type'];
  const origin = plan.headers.origin;
  if (type === undefined || !FORM_TYPE.test(type)) return undefined;
  if (origin !== undefined && origin !== new URL(BASE).origin) return undefined;
  if (body.bytes.length > BODY_LIMIT || Number(body.contentLength ?? '0') > BODY_LIMIT) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body.bytes);
  } catch {
    return undefined;
  }
  const form = new URLSearchParams(text);
  const one = (name: string): string | undefined => {
    const values = form.getAll(name);
    return values.length > 1 ? undefined : (values[0] ?? '');
  };
  if (one('csrf') !== own.csrf || cookieNonce(plan.headers.cookie) !== own.nonce) return undefined;
  const decision = one('decision');
  if (decision !== 'approve' && decision !== 'reject') return undefined;
  // A textarea's line breaks arrive as CRLF and count as one character, as its maxlength counts them.
  const comment = one('comment')?.replace(/\r\n?/g, '\n');
  const approver = one('approver');
  if (comment === undefined || comment.length > MAX_COMMENT_CHARS || approver === undefined || approver.length > MAX_APPROVER_CHARS) return undefined;
  return { approved: decision === 'approve', comment, approver };
}

function plan(rng: Rng, model: Model, other: Credentials): Planned {
  const own: Credentials = { nonce: model.nonce, csrf: model.csrf };
  const token = model.url.slice(model.url.lastIndexOf('/') + 1);
  const [url, real, where] = rng.weighted<[string, boolean, string]>([
    [40, [model.url, true, '/approve/:token']],
    [1, [`${BASE}/approve/${tokenOf(model.callbackUri)}`, false, '/approve/<callback token>']],
    [1, [`${BASE}/approve/${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, false, '/approve/<altered token>']],
    [1, [`${model.url}/`, false, '/approve/:token/']],
    [1, [`${model.url}?decision=approve&csrf=${own.csrf}`, true, '/approve/:token?query']],
  ]);
  const method = rng.weighted<string>([[85, 'POST'], [7, 'GET'], [2, 'HEAD'], [1, 'PUT'], [1, 'PATCH'], [1, 'DELETE'], [1, 'OPTIONS'], [1, 'PROPFIND'], [1, 'post']]);
  const headers: Record<string, string> = {};
  const cookie = rng.weighted<string | undefined>([
    [40, `hookgate_csrf=${own.nonce}`], [3, undefined], [2, `hookgate_csrf=${other.nonce}`], [2, `hookgate_csrf=${asciiString(rng, 22).replace(/[;=\s]/g, 'x')}`],
    [2, `hookgate_csrf=bad; hookgate_csrf=${own.nonce}`], [1, `other=1; hookgate_csrf=${own.nonce}; more=2`], [1, 'hookgate_csrf='], [1, `HOOKGATE_CSRF=${own.nonce}`],
  ]);
  if (cookie !== undefined) headers.cookie = cookie;
  const origin = rng.weighted<string | undefined>([[40, undefined], [40, new URL(BASE).origin], [4, 'https://evil.test'], [2, 'null'], [2, `${new URL(BASE).origin}:443`], [2, 'http://relay.test']]);
  if (origin !== undefined) headers.origin = origin;
  const contentType = rng.weighted<string | undefined>([
    [60, 'application/x-www-form-urlencoded'], [4, 'application/x-www-form-urlencoded; charset=UTF-8'], [4, 'APPLICATION/X-WWW-FORM-URLENCODED'],
    [2, 'application/x-www-form-urlencoded ;x=1'], [2, 'application/x-www-form-urlencodedx'], [2, 'multipart/form-data; boundary=x'], [2, 'application/json'],
    [2, 'text/plain'], [2, undefined],
  ]);
  const normalized = method.toLowerCase() === 'post' ? 'POST' : method;
  if (normalized === 'GET' || normalized === 'HEAD') return { label: `${normalized} ${where}`, method: normalized, url, headers, real };
  // Every other gate rarely gets its own form token: invalid posts must meet pending gates too.
  const { body, label } = formBody(rng, formFields(rng, own, other, model.index % 2 === 0 ? 0.02 : 1), contentType);
  if (body.contentType !== undefined) headers['content-type'] = body.contentType;
  if (body.contentLength !== undefined) headers['content-length'] = body.contentLength;
  const planned: Planned = { label: `${normalized} ${where} ${label}`, method, url, headers, body, real };
  if (normalized === 'POST' && real) {
    const decision = validDecision(planned, own);
    if (decision) planned.decision = decision;
  }
  return planned;
}

async function setUp(index: number, runId: string): Promise<Model> {
  const gate = await registerApproval({ runId, stepKey: `approval/${index}`, target: `prod-${index}` });
  // The page is opened before any decision: its form token stays valid and lets later posts reach 409 and 410.
  const page = await openApproval(gate.approvalUrl);
  expect(page.res.status).toBe(200);
  if (!page.nonce || !page.csrf) throw new Error('the approval page has no form');
  const model: Model = {
    index, runId, gateId: gate.gateId, url: gate.approvalUrl, callbackUri: gate.callbackUri, nonce: page.nonce, csrf: page.csrf,
    state: 'pending', message: null, decidedBy: null,
  };
  const start = caseRng(SEED, 'approval-setup', index).weighted<string>([[6, 'pending'], [1.5, 'succeeded'], [1.5, 'failed'], [1, 'canceled']]);
  if (start === 'succeeded' || start === 'failed') {
    const res = await submitPage(gate.approvalUrl, page, { decision: start === 'succeeded' ? 'approve' : 'reject', comment: 'set up', approver: 'Setup' });
    expect(res.status).toBe(303);
    Object.assign(model, { state: start, message: 'set up', decidedBy: 'Setup' });
  } else if (start === 'canceled') {
    expect((await postCancel({ runId, gateIds: [gate.gateId], reason: 'set up canceled' })).status).toBe(200);
    Object.assign(model, { state: 'canceled', message: 'set up canceled' });
  }
  return model;
}

describe('the approval page under fuzzing', () => {
  it(`keeps SPEC §4 for ${GATES} approval gates × ${REQUESTS_PER_GATE} random requests`, async () => {
    const started = performance.now();
    const tally = new StatusTally();
    const problems: string[] = [];
    let decidedByFuzz = 0;
    let validPosts = 0;
    let invalidOnPending = 0;

    const runId = newRunId('fuzz-approval');
    const models: Model[] = [];
    for (let at = 0; at < GATES; at += 8) {
      models.push(...(await Promise.all(Array.from({ length: Math.min(8, GATES - at) }, (_, i) => setUp(at + i, runId)))));
    }

    const fuzzGate = async (model: Model): Promise<void> => {
      const rng = caseRng(SEED, 'approval', model.index);
      const neighbour = models[(model.index + 1) % models.length] ?? model;
      const other: Credentials = { nonce: neighbour.nonce, csrf: neighbour.csrf };
      for (let i = 0; i < REQUESTS_PER_GATE; i++) {
        const where = `seed ${SEED}, gate #${model.index} request #${i}`;
        const p = plan(rng, model, other);
        let res: Response;
        try {
          res = await SELF.fetch(p.url, {
            method: p.method,
            headers: p.headers,
            redirect: 'manual',
            ...(p.body ? { body: requestBody(p.body) } : {}),
          });
        } catch (error) {
          if (!clientRefused(error)) throw error;
          tally.add(`${p.method} (refused by fetch, not sent)`, 0);
          continue;
        }
        tally.add(p.label.split(' ').slice(0, 2).join(' '), res.status);
        const method = p.method.toLowerCase() === 'post' ? 'POST' : p.method;
        const location = res.headers.get('location');
        const problem = await answerProblem(res, method, 'either');
        if (problem) problems.push(`${where}: ${p.label}: ${problem}`);

        if (method === 'GET' || method === 'HEAD') {
          if (p.real && res.status !== 200) problems.push(`${where}: ${p.label} answered ${res.status}, not the page`);
          continue;
        }
        if (method !== 'POST' || !p.real) {
          if (res.status < 400) problems.push(`${where}: ${p.label} answered ${res.status}; only a POST of the form may decide`);
          continue;
        }
        if (!p.decision) {
          if (model.state === 'pending') invalidOnPending++;
          if (![400, 403, 413, 415].includes(res.status)) problems.push(`${where}: ${p.label} is no valid decision (SPEC §4) but answered ${res.status}`);
          continue;
        }
        validPosts++;
        if (res.status === 429) continue;
        const want = model.state === 'pending' ? 303 : model.state === 'canceled' ? 410 : 409;
        if (res.status !== want) problems.push(`${where}: ${p.label}, a valid decision on a ${model.state} gate, answered ${res.status}, not ${want}`);
        if (res.status === 303) {
          if (location !== new URL(model.url).pathname) problems.push(`${where}: 303 to ${location}, not back to the page`);
          decidedByFuzz++;
          model.state = p.decision.approved ? 'succeeded' : 'failed';
          model.message = p.decision.comment.trim() === '' ? null : p.decision.comment.trim();
          model.decidedBy = p.decision.approver.trim() || 'anonymous';
        }
      }
      const res = await fetchGate(model.runId, model.gateId, 0);
      expect(res.status).toBe(200);
      const view = GateView.parse(await res.json());
      const got = { state: view.state, message: view.message, decidedBy: view.decidedBy };
      const want = { state: model.state, message: model.message, decidedBy: model.decidedBy };
      if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`seed ${SEED}, gate #${model.index}: stored ${JSON.stringify(got).slice(0, 300)}, the model says ${JSON.stringify(want).slice(0, 300)}`);
    };

    for (let at = 0; at < models.length; at += PARALLEL_GATES) {
      await Promise.all(models.slice(at, at + PARALLEL_GATES).map(fuzzGate));
    }

    const states = new Map<string, number>();
    for (const m of models) states.set(m.state, (states.get(m.state) ?? 0) + 1);
    console.log(
      [
        tally.format(`approval fuzz (seed ${SEED})`, performance.now() - started),
        `  valid decisions posted ${validPosts}, of which decided a pending gate ${decidedByFuzz}; invalid posts on a pending gate ${invalidOnPending}; gates at the end: ${[...states].map(([s, n]) => `${s} ${n}`).join(', ')}`,
      ].join('\n'),
    );
    expect(problems.slice(0, 30), problems.slice(0, 30).join('\n')).toEqual([]);
    expect(tally.total).toBe(GATES * REQUESTS_PER_GATE);
    expect(decidedByFuzz).toBeGreaterThan(0);
    expect(invalidOnPending).toBeGreaterThan(300);
  }, 300_000);
});
