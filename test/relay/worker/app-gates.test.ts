/** HTTP behaviour of the relay Worker (relay/worker/action-routes.ts) through SELF: long-polls on gates, cancels and error bodies. */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { CancelRunResponse, GateView } from '../../../shared/protocol.ts';
import {
  authHeaders,
  BASE,
  decide,
  expectError,
  fetchGate,
  gateUrl,
  getGate,
  newRunId,
  postCallback,
  postCancel,
  postRegister,
  register,
  sleep,
} from '../helpers.ts';

/** A gate's long-poll URL with `seen` (left out when undefined). */
function seenUrl(gate: { runId: string; gateId: string }, wait: number, seen?: string): string {
  const url = new URL(gateUrl(gate.runId, gate.gateId, wait));
  if (seen !== undefined) url.searchParams.set('seen', seen);
  return url.href;
}

describe('GET /v1/gates/:gateId (long-poll)', () => {
  it('returns a decided gate at once, even with a long wait', async () => {
    const gate = await register();
    await decide(gate.callbackUri, { success: true, mdMessage: 'done' });
    const started = Date.now();
    const view = await getGate(gate.runId, gate.gateId, 30);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(view).toMatchObject({ gateId: gate.gateId, state: 'succeeded', message: 'done' });
  });

  it('returns a pending gate at once without wait or with wait=0', async () => {
    const gate = await register();
    const started = Date.now();
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
    expect((await getGate(gate.runId, gate.gateId, 0)).state).toBe('pending');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('wakes a waiting poll promptly when the decision arrives', async () => {
    const gate = await register();
    const started = Date.now();
    const poll = fetchGate(gate.runId, gate.gateId, 10).then(async (res) => ({
      status: res.status,
      body: GateView.parse(await res.json()),
      at: Date.now(),
    }));
    await sleep(200);
    const decidedAt = Date.now();
    await decide(`${gate.callbackUri}/callback`, { success: false, mdMessage: 'tests failed' });
    const result = await poll;
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ state: 'failed', message: 'tests failed' });
    expect(result.at - started).toBeLessThan(2000);
    expect(result.at - decidedAt).toBeLessThan(1000);
  });

  it('wakes every poll waiting on the same gate', async () => {
    const gate = await register();
    const polls = [1, 2, 3].map(() => getGate(gate.runId, gate.gateId, 10));
    await sleep(150);
    const started = Date.now();
    await decide(gate.callbackUri, { success: true });
    const views = await Promise.all(polls);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(views.map((view) => view.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('returns pending after the window when nothing decides (wait=1)', async () => {
    const gate = await register();
    const started = Date.now();
    const view = await getGate(gate.runId, gate.gateId, 1);
    const elapsed = Date.now() - started;
    expect(view.state).toBe('pending');
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(2500);
  });

  it('answers 400 to a wait over 30 seconds, negative or not a number', async () => {
    const gate = await register();
    for (const wait of ['31', '30.5', '-1', 'abc', 'Infinity']) {
      const res = await SELF.fetch(`${BASE}/v1/gates/${gate.gateId}?run=${encodeURIComponent(gate.runId)}&wait=${wait}`, {
        headers: authHeaders(),
      });
      const error = await expectError(res, 400, 'bad_request');
      expect(error.message).toContain('wait');
    }
  });

  it('answers 400 naming seen to a seen that is not an integer of 0 or more', async () => {
    const gate = await register();
    for (const seen of ['-1', '1.5', 'abc', '', '1e3', 'Infinity', '9'.repeat(16)]) {
      const error = await expectError(await SELF.fetch(seenUrl(gate, 0, seen), { headers: authHeaders() }), 400, 'bad_request');
      expect(error.message).toContain('seen');
    }
  });

  it('answers a pending gate at once when it holds a progress report past seen', async () => {
    const gate = await register();
    await decide(gate.callbackUri, { progress: true, mdMessage: 'migrating 1/2' });
    await decide(gate.callbackUri, { progress: true, mdMessage: 'migrating 2/2' });
    const controller = new AbortController();
    const poll = SELF.fetch(seenUrl(gate, 30, '1'), { headers: authHeaders(), signal: controller.signal });
    // A held poll would answer only after 30 s: 3 s tells the two apart with room to spare.
    const answer = await Promise.race([poll, sleep(3000).then(() => 'held' as const)]);
    if (answer === 'held') {
      controller.abort();
      expect.fail('the long-poll held though a report past seen was there');
    }
    expect(answer.status).toBe(200);
    const view = GateView.parse(await answer.json());
    expect(view.state).toBe('pending');
    expect(view.progress.map((report) => [report.seq, report.message])).toEqual([
      [1, 'migrating 1/2'],
      [2, 'migrating 2/2'],
    ]);
  });

  it('holds a poll whose seen is the latest report, as one without seen, until a new report wakes both', async () => {
    const gate = await register();
    await decide(gate.callbackUri, { progress: true, mdMessage: 'one' });
    const views = [seenUrl(gate, 30, '1'), seenUrl(gate, 30)].map(async (url) => {
      const res = await SELF.fetch(url, { headers: authHeaders() });
      expect(res.status).toBe(200);
      return GateView.parse(await res.json());
    });
    const early = await Promise.race([Promise.all(views).then(() => 'answered'), sleep(1500).then(() => 'held')]);
    expect(early).toBe('held');
    await decide(gate.callbackUri, { progress: true, mdMessage: 'two' });
    for (const view of await Promise.all(views)) {
      expect(view.state).toBe('pending');
      expect(view.progress.map((report) => report.seq)).toEqual([1, 2]);
    }
  });

  it('answers 404 to an unknown gate, well-formed or not', async () => {
    const gate = await register();
    await expectError(await fetchGate(gate.runId, 'AAAAAAAAAAAAAAAAAAAAAA'), 404, 'not_found');
    await expectError(await fetchGate(gate.runId, 'not-a-gate'), 404, 'not_found');
    await expectError(await fetchGate(newRunId(), gate.gateId, 5), 404, 'not_found');
  });

  it('answers 400 naming run when the run is missing or malformed', async () => {
    const gate = await register();
    const missing = await expectError(
      await SELF.fetch(`${BASE}/v1/gates/${gate.gateId}`, { headers: authHeaders() }),
      400,
      'bad_request',
    );
    expect(missing.message).toContain('run');
    await expectError(
      await SELF.fetch(`${BASE}/v1/gates/${gate.gateId}?run=`, { headers: authHeaders() }),
      400,
      'bad_request',
    );
    await expectError(
      await SELF.fetch(`${BASE}/v1/gates/${gate.gateId}?run=a%20b`, { headers: authHeaders() }),
      400,
      'bad_request',
    );
  });
});

describe('POST /v1/runs/cancel', () => {
  it('cancels every pending gate of the run, leaves decided ones, returns the canceled ids', async () => {
    const a = await register({ stepKey: 'a' });
    const b = await register({ runId: a.runId, stepKey: 'b' });
    const c = await register({ runId: a.runId, stepKey: 'c' });
    const other = await register({ runId: newRunId(), stepKey: 'a' });
    await decide(c.callbackUri, { success: true, mdMessage: 'done' });

    const res = await postCancel({ runId: a.runId, reason: 'the job was canceled' });
    expect(res.status).toBe(200);
    const answer = CancelRunResponse.parse(await res.json());
    expect(answer.runId).toBe(a.runId);
    expect([...answer.canceled].sort()).toEqual([a.gateId, b.gateId].sort());

    for (const gate of [a, b]) {
      const view = await getGate(gate.runId, gate.gateId);
      expect(view).toMatchObject({ state: 'canceled', message: 'the job was canceled' });
      expect(view.decidedAt).not.toBeNull();
      await expectError(await postCallback(gate.callbackUri, { success: true }), 410, 'gone');
    }
    expect(await getGate(c.runId, c.gateId)).toMatchObject({ state: 'succeeded', message: 'done' });
    expect((await getGate(other.runId, other.gateId)).state).toBe('pending');

    const again = CancelRunResponse.parse(await (await postCancel({ runId: a.runId })).json());
    expect(again.canceled).toEqual([]);
  });

  it('cancels only the listed gates when gateIds is given', async () => {
    const a = await register({ stepKey: 'a' });
    const b = await register({ runId: a.runId, stepKey: 'b' });
    const c = await register({ runId: a.runId, stepKey: 'c' });
    await decide(c.callbackUri, { success: false });
    const answer = CancelRunResponse.parse(
      await (await postCancel({ runId: a.runId, reason: 'a sibling failed', gateIds: [a.gateId, c.gateId] })).json(),
    );
    expect(answer.canceled).toEqual([a.gateId]);
    expect((await getGate(a.runId, a.gateId)).state).toBe('canceled');
    expect((await getGate(b.runId, b.gateId)).state).toBe('pending');
    expect((await getGate(c.runId, c.gateId)).state).toBe('failed');
    await expectError(await postCallback(`${a.callbackUri}/callback`, { success: false }), 410, 'gone');
    expect((await postCallback(b.callbackUri, { success: true })).status).toBe(200);

    const none = CancelRunResponse.parse(await (await postCancel({ runId: a.runId, gateIds: [] })).json());
    expect(none.canceled).toEqual([]);
  });

  it('uses a default reason', async () => {
    const gate = await register();
    expect((await postCancel({ runId: gate.runId })).status).toBe(200);
    expect((await getGate(gate.runId, gate.gateId)).message).toBe('the run was canceled');
  });

  it('wakes a waiting poll with canceled', async () => {
    const gate = await register();
    const poll = getGate(gate.runId, gate.gateId, 10);
    await sleep(100);
    const started = Date.now();
    await postCancel({ runId: gate.runId });
    expect((await poll).state).toBe('canceled');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('answers 400 naming the field to a bad cancel body', async () => {
    const missing = await expectError(await postCancel({ reason: 'x' }), 400, 'bad_request');
    expect(missing.message).toContain('runId');
    const badIds = await expectError(await postCancel({ runId: newRunId(), gateIds: ['nope'] }), 400, 'bad_request');
    expect(badIds.message).toContain('gateIds');
    const extra = await expectError(await postCancel({ runId: newRunId(), all: true }), 400, 'bad_request');
    expect(extra.message).toContain('all');
    const target = await expectError(await postCancel({ runId: newRunId(), target: '' }), 400, 'bad_request');
    expect(target.message).toContain('target');
  });
});

describe('error bodies', () => {
  it('never carry a stack trace, even for odd inputs', async () => {
    const gate = await register();
    const samples: [Promise<Response>, number][] = [
      [postRegister('{"runId":', authHeaders()), 400],
      [postRegister('\u0000\u0001', authHeaders()), 400],
      [SELF.fetch(`${BASE}/v1/gates`, { method: 'POST', headers: authHeaders(), body: new Uint8Array([0xff, 0xfe, 0x7b]) }), 400],
      [postCallback(gate.callbackUri, '{"success": tru'), 400],
      [SELF.fetch(`${BASE}/cb/${'%'.repeat(3)}`, { method: 'POST', body: '{}' }), 404],
      [SELF.fetch(`${BASE}/v1/gates/${gate.gateId}?run=${'x'.repeat(201)}`, { headers: authHeaders() }), 400],
    ];
    for (const [response, status] of samples) await expectError(await response, status);
  });
});
