/**
 * The relay's limits (shared/protocol.ts): gates and target records per run, callbacks per gate per minute,
 * and the callback message's length. The body size limits are in app*.test.ts and
 * approval-routes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_CALLBACKS_PER_GATE_PER_MINUTE,
  MAX_GATES_PER_RUN,
  MAX_MESSAGE_CHARS,
  MAX_TARGETS_PER_RUN,
} from '../../../shared/protocol.ts';
import {
  alterChar,
  authHeaders,
  BASE,
  decideOnPage,
  expectError,
  expectPageHeaders,
  gateRequest,
  getGate,
  getTarget,
  newRunId,
  openApproval,
  postCallback,
  postRegister,
  postTarget,
  register,
  registerApproval,
  runInObject,
  submitPage,
  tokenOf,
} from '../helpers.ts';
import { migrate } from '../../../relay/run/schema.ts';

/** Adds `count` decided gates to the run's table beside `gateId`'s, as if registered long ago. */
function plantGates(runId: string, gateId: string, count: number): Promise<void> {
  return runInObject(runId, (state) => {
    state.storage.sql.exec(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO gates (id, run_id, step_key, target, phase, name, kind, attempt, state, message, decided_by,
                          requires_roles, created_at, deadline, decided_at, callback_uri, approval_url)
       SELECT printf('planted%015d', i), run_id, 'planted/' || i, target, phase, name, kind, attempt, 'succeeded',
              'planted', NULL, requires_roles, created_at, deadline, created_at, callback_uri, NULL
       FROM gates, n WHERE gates.id = ?`,
      count,
      gateId,
    );
  });
}

function gateCount(runId: string): Promise<number> {
  return runInObject(runId, (state) => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM gates').one().n);
}

describe(`gates per run (MAX_GATES_PER_RUN = ${MAX_GATES_PER_RUN})`, () => {
  it('registers the last one, refuses a new one past it with 422, and still answers re-registrations', async () => {
    const first = await register();
    const runId = first.runId;
    await plantGates(runId, first.gateId, MAX_GATES_PER_RUN - 2);

    const last = await register({ runId, stepKey: 'the-last-one' });
    expect(last.status).toBe(201);
    const over = await expectError(await postRegister(gateRequest({ runId, stepKey: 'one-too-many' })), 422, 'too_many_gates');
    expect(over.message).toContain(`MAX_GATES_PER_RUN = ${MAX_GATES_PER_RUN}`);
    expect(over.message).toContain(runId);
    expect(await gateCount(runId)).toBe(MAX_GATES_PER_RUN);

    expect(await register(first.request)).toMatchObject({ status: 200, gateId: first.gateId, created: false });
    expect(await register({ runId, stepKey: 'the-last-one' })).toMatchObject({ status: 200, gateId: last.gateId });
    expect((await register()).status).toBe(201);
  });

  it('lets only one of several concurrent registrations take the last place', async () => {
    const first = await register();
    const runId = first.runId;
    await plantGates(runId, first.gateId, MAX_GATES_PER_RUN - 2);
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => postRegister(gateRequest({ runId, stepKey: `racer-${i}` }), authHeaders())),
    );
    expect(answers.map((res) => res.status).sort()).toEqual([201, 422, 422, 422, 422]);
    expect(await gateCount(runId)).toBe(MAX_GATES_PER_RUN);
  });
});

/** Adds `count` target records to the run, as if reported long ago (its tables created first, as a first write does). */
function plantTargets(runId: string, count: number): Promise<void> {
  return runInObject(runId, (state) => {
    migrate(state.storage);
    state.storage.sql.exec(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO targets (target, attempt, status, message, updated_at) SELECT 'planted-' || i, 1, 'succeeded', '', ? FROM n`,
      count,
      Date.now(),
    );
  });
}

describe(`target records per run (MAX_TARGETS_PER_RUN = ${MAX_TARGETS_PER_RUN})`, () => {
  it('records the last one, refuses a new one past it with 422 naming the limit, and still updates the others', async () => {
    const runId = newRunId();
    await plantTargets(runId, MAX_TARGETS_PER_RUN - 1);
    const report = { runId, target: 'the-last-one', attempt: 1, status: 'running' };
    expect((await postTarget(report)).status).toBe(200);
    const over = await expectError(await postTarget({ ...report, target: 'one-too-many' }), 422, 'too_many_targets');
    expect(over.message).toContain(`MAX_TARGETS_PER_RUN = ${MAX_TARGETS_PER_RUN}`);
    expect(over.message).toContain(runId);
    expect((await getTarget(runId, 'one-too-many')).status).toBe('unknown');
    expect((await postTarget({ ...report, status: 'succeeded' })).status).toBe(200);
    expect((await postTarget({ ...report, target: 'planted-1', attempt: 2 })).status).toBe(200);
  });
});

describe(`callbacks per gate per minute (MAX_CALLBACKS_PER_GATE_PER_MINUTE = ${MAX_CALLBACKS_PER_GATE_PER_MINUTE})`, () => {
  async function postMany(uri: string, count: number, body: unknown): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < count; i += 1) statuses.push((await postCallback(uri, body)).status);
    return statuses;
  }

  it('gives progress reports their own budget: past it 429 with Retry-After, and a decision still lands', async () => {
    const gate = await register();
    const progress = await postMany(gate.callbackUri, MAX_CALLBACKS_PER_GATE_PER_MINUTE - 1, { progress: true, mdMessage: 'tick' });
    expect(progress.every((status) => status === 200)).toBe(true);
    // Through the `/callback` spelling too: one gate, one count.
    expect((await postCallback(`${gate.callbackUri}/callback`, { progress: true, mdMessage: 'last' })).status).toBe(200);

    const refused = await postCallback(gate.callbackUri, { progress: true, mdMessage: 'one too many' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    const body = await expectError(refused, 429, 'rate_limited');
    expect(body.message).toContain('MAX_CALLBACKS_PER_GATE_PER_MINUTE');
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const view = await getGate(gate.runId, gate.gateId);
    expect(view.state).toBe('pending');
    expect(view.progress.at(-1)).toMatchObject({ seq: MAX_CALLBACKS_PER_GATE_PER_MINUTE, message: 'last' });

    // The reports never use up the decision's budget.
    expect((await postCallback(gate.callbackUri, { success: false, mdMessage: 'decided after many reports' })).status).toBe(200);
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'failed', message: 'decided after many reports' });

    // Another gate of the same run has its own count.
    const sibling = await register({ runId: gate.runId, stepKey: 'sibling' });
    expect((await postCallback(sibling.callbackUri, { progress: true, mdMessage: 'mine' })).status).toBe(200);
  });

  it('counts a decided gate’s repeats and conflicts as well', async () => {
    const gate = await register();
    const statuses = await postMany(gate.callbackUri, MAX_CALLBACKS_PER_GATE_PER_MINUTE + 1, { success: true });
    expect(statuses.slice(0, -1).every((status) => status === 200)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it('counts the approval page’s decisions, not posts to its callback URI, and answers the page 429 as a page', async () => {
    const gate = await registerApproval();
    const page = await openApproval(gate.approvalUrl);
    // An approval gate's callback URI answers as an unknown token's and uses up nothing.
    const ignored = await postMany(gate.callbackUri, MAX_CALLBACKS_PER_GATE_PER_MINUTE + 1, { success: true });
    expect(ignored.every((status) => status === 404)).toBe(true);
    // A form the page rejects before the gate (no decision field) does not count.
    expect((await submitPage(gate.approvalUrl, page, { decision: 'maybe' })).status).toBe(400);
    await decideOnPage(gate.approvalUrl, 'reject');
    for (let i = 1; i < MAX_CALLBACKS_PER_GATE_PER_MINUTE; i += 1) {
      expect((await submitPage(gate.approvalUrl, page, { decision: 'approve', comment: '', approver: '' })).status).toBe(409);
    }
    const refused = await submitPage(gate.approvalUrl, page, { decision: 'approve', comment: '', approver: '' });
    expect(refused.status).toBe(429);
    expectPageHeaders(refused);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.text()).toContain(String(MAX_CALLBACKS_PER_GATE_PER_MINUTE));
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('failed');
  });

  it('does not count forged tokens: the Worker refuses them before the run object', async () => {
    const gate = await register();
    const token = tokenOf(gate.callbackUri);
    const forged = `${BASE}/cb/${alterChar(token, token.length - 3)}`;
    const refused = await postMany(forged, MAX_CALLBACKS_PER_GATE_PER_MINUTE + 5, { success: true });
    expect(refused.every((status) => status === 404)).toBe(true);
    const real = await postMany(gate.callbackUri, MAX_CALLBACKS_PER_GATE_PER_MINUTE, { progress: true, mdMessage: 'ok' });
    expect(real.every((status) => status === 200)).toBe(true);
  });
});

describe(`mdMessage (MAX_MESSAGE_CHARS = ${MAX_MESSAGE_CHARS})`, () => {
  it('is refused 400 naming mdMessage and its limit, in a decision and in a progress report', async () => {
    const gate = await register();
    const long = 'x'.repeat(MAX_MESSAGE_CHARS + 1);
    for (const body of [{ success: true, mdMessage: long }, { progress: true, mdMessage: long }]) {
      const error = await expectError(await postCallback(gate.callbackUri, body), 400, 'bad_request');
      expect(error.message).toBe(`mdMessage: must be at most ${MAX_MESSAGE_CHARS} characters`);
    }
    expect((await postCallback(gate.callbackUri, { progress: true, mdMessage: long.slice(1) })).status).toBe(200);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });
});
