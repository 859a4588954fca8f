/**
 * POST /v1/gates/called and the callback's heartbeats (SPEC §11): the call starts a gate's
 * heartbeat clock once; a bare `{"progress": true}`, a report and a decision are "heard"; a bare
 * one is never stored as a report.
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { GateView } from '../../../shared/protocol.ts';
import { alarmOf, authHeaders, BASE, decide, expectError, gateRequest, getGate, newRunId, postCallback, postRegister, register, registerApproval, runInObject } from '../helpers.ts';
import { tableNames } from '../run/stored.ts';
import { oidcHeaders, REPO_A, REPO_B } from '../oidc.ts';

function postCalled(body: unknown, headers = authHeaders()): Promise<Response> {
  return SELF.fetch(`${BASE}/v1/gates/called`, { method: 'POST', headers, body: JSON.stringify(body) });
}

async function called(runId: string, gateId: string): Promise<GateView> {
  const res = await postCalled({ runId, gateId });
  expect(res.status).toBe(200);
  return GateView.parse(await res.json());
}

/** Moves the gate's last-heard time to `at` in its own table. */
function setLastHeard(runId: string, gateId: string, at: number): Promise<void> {
  return runInObject(runId, (state) => {
    state.storage.sql.exec('UPDATE gates SET last_heard_at = ? WHERE id = ?', at, gateId);
  });
}

describe('POST /v1/gates/called', () => {
  it('starts the heartbeat clock on the first call only, and answers the view', async () => {
    const gate = await register({ heartbeatSeconds: 300 });
    expect(gate).toMatchObject({ heartbeatSeconds: 300, lastHeardAt: null });
    const before = Date.now();
    const first = await called(gate.runId, gate.gateId);
    expect(first).toMatchObject({ gateId: gate.gateId, state: 'pending', heartbeatSeconds: 300 });
    expect(first.lastHeardAt).toBeGreaterThanOrEqual(before);
    await setLastHeard(gate.runId, gate.gateId, before - 60_000);
    expect((await called(gate.runId, gate.gateId)).lastHeardAt).toBe(before - 60_000);
    expect((await getGate(gate.runId, gate.gateId)).lastHeardAt).toBe(before - 60_000);
  });

  it('records the call of a gate without a heartbeat too (lastHeardAt), and changes nothing on a decided gate', async () => {
    const gate = await register();
    expect((await called(gate.runId, gate.gateId)).lastHeardAt).not.toBeNull();
    const decided = await register({ runId: gate.runId, stepKey: 'decided', heartbeatSeconds: 60 });
    await decide(decided.callbackUri, { success: true });
    expect(await called(decided.runId, decided.gateId)).toMatchObject({ state: 'succeeded', lastHeardAt: null });
  });

  it('answers 404 for an unknown gate, a gate of another run and an approval gate', async () => {
    const gate = await register();
    const other = await register();
    const approval = await registerApproval({ runId: gate.runId });
    for (const body of [
      { runId: gate.runId, gateId: 'AAAAAAAAAAAAAAAAAAAAAA' },
      { runId: gate.runId, gateId: other.gateId },
      { runId: gate.runId, gateId: approval.gateId },
    ]) {
      const error = await expectError(await postCalled(body), 404, 'not_found');
      expect(error.message).toBe('gateId: no such webhook gate in this run');
    }
  });

  it('answers 404 on a run that stored nothing, and stores nothing: no tables, no owner claimed', async () => {
    const runId = newRunId('never-written');
    const error = await expectError(await postCalled({ runId, gateId: 'AAAAAAAAAAAAAAAAAAAAAA' }, await oidcHeaders(REPO_A)), 404, 'not_found');
    expect(error.message).toBe('gateId: no such webhook gate in this run');
    expect(await tableNames(runId)).toEqual([]);
    expect(await alarmOf(runId)).toBeNull();
    // Another repository may still be the run's first writer.
    expect((await postRegister(gateRequest({ runId }), await oidcHeaders(REPO_B))).status).toBe(201);
  });

  it('answers 400 naming the field, 401 without a credential, 403 to another repository', async () => {
    const gate = await register({ heartbeatSeconds: 60 });
    expect((await expectError(await postCalled({ runId: gate.runId }), 400, 'bad_request')).message).toMatch(/^gateId: /);
    expect((await expectError(await postCalled({ runId: gate.runId, gateId: 'short' }), 400, 'bad_request')).message).toBe('gateId: is not a gate id');
    const extra = await expectError(await postCalled({ runId: gate.runId, gateId: gate.gateId, at: 1 }), 400, 'bad_request');
    expect(extra.message).toMatch(/at/);
    await expectError(await postCalled({ runId: gate.runId, gateId: gate.gateId }, { 'content-type': 'application/json' }), 401);

    const ownerHeaders = await oidcHeaders(REPO_A);
    const mine = await postRegister(gateRequest({ heartbeatSeconds: 60 }), ownerHeaders);
    expect(mine.status).toBe(201);
    const view = GateView.parse(await mine.json());
    await expectError(await postCalled({ runId: view.runId, gateId: view.gateId }, await oidcHeaders(REPO_B)), 403, 'forbidden');
    expect((await getGate(view.runId, view.gateId)).lastHeardAt).toBeNull();
    expect((await postCalled({ runId: view.runId, gateId: view.gateId }, ownerHeaders)).status).toBe(200);
  });
});

describe('a bare {"progress": true}', () => {
  it('is heard (lastHeardAt moves) and stored as no report', async () => {
    const gate = await register({ heartbeatSeconds: 300 });
    await called(gate.runId, gate.gateId);
    const long = Date.now() - 120_000;
    await setLastHeard(gate.runId, gate.gateId, long);
    expect(await decide(gate.callbackUri, { progress: true })).toEqual({ gateId: gate.gateId, state: 'pending', message: null });
    const view = await getGate(gate.runId, gate.gateId);
    expect(view.progress).toEqual([]);
    expect(view.lastHeardAt).toBeGreaterThan(long);
    const stored = await runInObject(gate.runId, (state) =>
      state.storage.sql.exec<{ count: number }>('SELECT COUNT(*) AS count FROM progress WHERE gate_id = ?', gate.gateId).one().count,
    );
    expect(stored).toBe(0);
  });

  it('before the call is reported moves no clock; a report with a message is heard and stored', async () => {
    const gate = await register({ heartbeatSeconds: 300 });
    await decide(gate.callbackUri, { progress: true });
    expect((await getGate(gate.runId, gate.gateId)).lastHeardAt).toBeNull();
    await called(gate.runId, gate.gateId);
    const long = Date.now() - 120_000;
    await setLastHeard(gate.runId, gate.gateId, long);
    await decide(gate.callbackUri, { progress: true, mdMessage: 'half way' });
    const view = await getGate(gate.runId, gate.gateId);
    expect(view.progress.map((report) => [report.seq, report.message])).toEqual([[1, 'half way']]);
    expect(view.lastHeardAt).toBeGreaterThan(long);
  });

  it('on a decided gate is a 409, as any report is', async () => {
    const gate = await register();
    await decide(gate.callbackUri, { success: true });
    await expectError(await postCallback(gate.callbackUri, { progress: true }), 409, 'conflict');
    expect((await getGate(gate.runId, gate.gateId)).progress).toEqual([]);
  });
});

describe('a decision', () => {
  it('is heard too', async () => {
    const gate = await register({ heartbeatSeconds: 300 });
    await called(gate.runId, gate.gateId);
    const long = Date.now() - 120_000;
    await setLastHeard(gate.runId, gate.gateId, long);
    await decide(gate.callbackUri, { success: true });
    expect((await getGate(gate.runId, gate.gateId)).lastHeardAt).toBeGreaterThan(long);
  });
});
