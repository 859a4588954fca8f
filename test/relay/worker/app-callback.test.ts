/** HTTP behaviour of the callback URIs (relay/worker/app.ts, SPEC §3), as an external system sees them. */
import { runDurableObjectAlarm, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../../shared/protocol.ts';
import {
  authHeaders,
  decide,
  expectError,
  expireInStorage,
  getGate,
  postCallback,
  postCancel,
  register,
  runStub,
} from '../helpers.ts';

describe('POST <callbackUri> (SPEC §3)', () => {
  it('refuses a body that is both a decision and a progress report (SPEC §3: never both)', async () => {
    const gate = await register();
    const both = await expectError(await postCallback(gate.callbackUri, { success: true, progress: true, mdMessage: 'x' }), 400, 'bad_request');
    expect(both.message).toMatch(/not both/);
    const badDecision = await expectError(await postCallback(gate.callbackUri, { success: 'yes', progress: true, mdMessage: 'x' }), 400, 'bad_request');
    expect(badDecision.message).toMatch(/^success: /);
    const view = await getGate(gate.runId, gate.gateId);
    expect(view).toMatchObject({ state: 'pending', progress: [] });
  });

  // JSON escapes can spell a lone surrogate; stored, it would come back as another message.
  it('refuses a message with an unpaired surrogate, naming the field, and leaves the gate pending', async () => {
    const gate = await register();
    const res = await postCallback(gate.callbackUri, '{"success": true, "mdMessage": "half a pair: \\ud83d"}');
    const error = await expectError(res, 400, 'bad_request');
    expect(error.message).toMatch(/^mdMessage: contains an unpaired UTF-16 surrogate/);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
    // A whole pair is fine.
    expect((await decide(gate.callbackUri, { success: true, mdMessage: 'ok \u{1F680}' })).message).toBe('ok \u{1F680}');
  });

  it('decides on the URI as rendered: 200 with the recorded decision, stored', async () => {
    const gate = await register();
    const answer = await decide(gate.callbackUri, { success: true, mdMessage: 'All 412 tests passed' });
    expect(answer).toEqual({ gateId: gate.gateId, state: 'succeeded', message: 'All 412 tests passed' });
    const view = await getGate(gate.runId, gate.gateId);
    expect(view.state).toBe('succeeded');
    expect(view.message).toBe('All 412 tests passed');
    expect(view.decidedAt).not.toBeNull();
  });

  it('decides on the URI with the /callback suffix Armory templates append', async () => {
    const gate = await register();
    const answer = await decide(`${gate.callbackUri}/callback`, { success: false, mdMessage: 'migration failed' });
    expect(answer.state).toBe('failed');
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('failed');
  });

  it('answers 200 to a repeat of the same decision, on either URI form', async () => {
    const gate = await register();
    await decide(gate.callbackUri, { success: true, mdMessage: 'first' });
    const repeat = await decide(`${gate.callbackUri}/callback`, { success: true, mdMessage: 'second' });
    expect(repeat).toEqual({ gateId: gate.gateId, state: 'succeeded', message: 'first' });
  });

  it('answers 409 to a different decision; the first one stays stored', async () => {
    const gate = await register();
    await decide(gate.callbackUri, { success: true, mdMessage: 'ok' });
    const error = await expectError(await postCallback(gate.callbackUri, { success: false, mdMessage: 'no' }), 409, 'conflict');
    expect(error.gate).toEqual({ gateId: gate.gateId, state: 'succeeded', message: 'ok' });
    const view = await getGate(gate.runId, gate.gateId);
    expect(view.state).toBe('succeeded');
    expect(view.message).toBe('ok');

    const failed = await register({ runId: gate.runId, stepKey: 'other' });
    await decide(failed.callbackUri, { success: false });
    await expectError(await postCallback(failed.callbackUri, { success: true }), 409, 'conflict');
    expect((await getGate(failed.runId, failed.gateId)).state).toBe('failed');
  });

  it('records a progress report without deciding, visible in GET', async () => {
    const gate = await register();
    const answer = await decide(gate.callbackUri, { progress: true, mdMessage: '120 of 412 tests done' });
    expect(answer).toEqual({ gateId: gate.gateId, state: 'pending', message: null });
    await decide(`${gate.callbackUri}/callback`, { progress: true, mdMessage: '300 of 412 tests done' });
    const view = await getGate(gate.runId, gate.gateId);
    expect(view.state).toBe('pending');
    expect(view.decidedAt).toBeNull();
    expect(view.progress.map((report) => report.message)).toEqual(['120 of 412 tests done', '300 of 412 tests done']);
    expect(view.progress[0]?.at).toBeGreaterThanOrEqual(view.createdAt);
    // A decision still lands after progress reports, and they are kept.
    await decide(gate.callbackUri, { success: true });
    const decided = await getGate(gate.runId, gate.gateId);
    expect(decided.state).toBe('succeeded');
    expect(decided.progress).toHaveLength(2);
  });

  it('accepts and ignores an Authorization header, right or wrong', async () => {
    const gate = await register();
    const res = await postCallback(gate.callbackUri, { success: true }, { authorization: 'Bearer some-armory-token' });
    expect(res.status).toBe(200);
    const other = await register({ runId: gate.runId, stepKey: 'other' });
    const withRelayToken = await postCallback(other.callbackUri, { success: true }, authHeaders());
    expect(withRelayToken.status).toBe(200);
  });

  it('accepts unknown extra fields Armory clients send', async () => {
    const gate = await register();
    const answer = await decide(gate.callbackUri, { success: true, mdMessage: 'ok', deploymentId: 'x', extra: [1] });
    expect(answer.state).toBe('succeeded');
  });

  const badBodies: [string, unknown][] = [
    ['success missing', { mdMessage: 'done' }],
    ['success a string', { success: 'true' }],
    ['success a number', { success: 1 }],
    ['progress false', { progress: false, mdMessage: 'x' }],
    ['an empty object', {}],
  ];
  for (const [label, body] of badBodies) {
    it(`answers 400 naming success: ${label}`, async () => {
      const gate = await register();
      const error = await expectError(await postCallback(gate.callbackUri, body), 400, 'bad_request');
      expect(error.message).toContain('success');
      expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
    });
  }

  it('answers 400 to a body that is not JSON, not an object, or whose message is too long', async () => {
    const gate = await register();
    const array = await expectError(await postCallback(gate.callbackUri, [{ success: true }]), 400, 'bad_request');
    expect(array.message).toMatch(/object/);
    const notJson = await expectError(await postCallback(gate.callbackUri, 'success=true'), 400, 'bad_request');
    expect(notJson.message).toMatch(/not JSON/);
    const long = await expectError(
      await postCallback(gate.callbackUri, { success: true, mdMessage: 'x'.repeat(16 * 1024 + 1) }),
      400,
      'bad_request',
    );
    expect(long.message).toContain('mdMessage');
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });

  it('reads a body of exactly 64 KiB and answers 413 one byte past it', async () => {
    const gate = await register();
    const prefix = '{"success":true,"padding":"';
    const suffix = '"}';
    const exact = prefix + 'x'.repeat(MAX_BODY_BYTES - prefix.length - suffix.length) + suffix;
    expect(exact.length).toBe(MAX_BODY_BYTES);
    const over = prefix + 'x'.repeat(MAX_BODY_BYTES + 1 - prefix.length - suffix.length) + suffix;
    await expectError(await postCallback(gate.callbackUri, over), 413, 'payload_too_large');
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
    expect((await postCallback(gate.callbackUri, exact)).status).toBe(200);
  });

  it('answers 413 to a streamed (chunked) body over 64 KiB without a Content-Length', async () => {
    const gate = await register();
    const chunk = new TextEncoder().encode('x'.repeat(8 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"success":true,"padding":"'));
      },
      pull(controller) {
        // 80 KiB of padding in 8 KiB chunks, then the end of the JSON.
        if (sent >= 10) {
          controller.enqueue(new TextEncoder().encode('"}'));
          controller.close();
          return;
        }
        sent += 1;
        controller.enqueue(chunk);
      },
    });
    const res = await SELF.fetch(gate.callbackUri, { method: 'POST', body });
    await expectError(res, 413, 'payload_too_large');
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });

  it('reads a small streamed (chunked) body', async () => {
    const gate = await register();
    const parts = ['{"success":', 'true,"mdMessage":', '"streamed"}'];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const part = parts.shift();
        if (part === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(part));
      },
    });
    const res = await SELF.fetch(gate.callbackUri, { method: 'POST', body });
    expect(res.status).toBe(200);
    expect((await getGate(gate.runId, gate.gateId)).message).toBe('streamed');
  });

  it('answers 405 JSON to GET, PUT and DELETE on a callback URI and never decides', async () => {
    const gate = await register();
    for (const uri of [gate.callbackUri, `${gate.callbackUri}/callback`]) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const init: RequestInit = { method };
        if (method === 'PUT') init.body = JSON.stringify({ success: true });
        await expectError(await SELF.fetch(uri, init), 405, 'method_not_allowed');
      }
      const head = await SELF.fetch(uri, { method: 'HEAD' });
      expect(head.status).not.toBe(200);
    }
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });

  it('answers 410 after the run was canceled, with the stored state', async () => {
    const gate = await register();
    expect((await postCancel({ runId: gate.runId, reason: 'job canceled' })).status).toBe(200);
    for (const uri of [gate.callbackUri, `${gate.callbackUri}/callback`]) {
      const error = await expectError(await postCallback(uri, { success: true }), 410, 'gone');
      expect(error.gate).toMatchObject({ gateId: gate.gateId, state: 'canceled' });
    }
    await expectError(await postCallback(gate.callbackUri, { progress: true, mdMessage: 'late' }), 410, 'gone');
    const view = await getGate(gate.runId, gate.gateId);
    expect(view.state).toBe('canceled');
    expect(view.progress).toEqual([]);
  });

  it('answers 410 after the gate timed out', async () => {
    const gate = await register();
    await expireInStorage(gate.runId, gate.gateId);
    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('timed-out');
    await expectError(await postCallback(`${gate.callbackUri}/callback`, { progress: true, mdMessage: 'late' }), 410, 'gone');
    const error = await expectError(await postCallback(gate.callbackUri, { success: true }), 410, 'gone');
    expect(error.gate).toMatchObject({ state: 'timed-out' });
  });

  it('answers 410 after the deadline even when the alarm has not run yet (the deadline is final)', async () => {
    const gate = await register();
    await expireInStorage(gate.runId, gate.gateId);
    const error = await expectError(await postCallback(gate.callbackUri, { success: true }), 410, 'gone');
    expect(error.gate).toMatchObject({ state: 'timed-out', message: 'no decision arrived before the deadline' });
  });

  it('answers a long-poll after the deadline with timed-out even when the alarm has not run yet', async () => {
    const gate = await register();
    await expireInStorage(gate.runId, gate.gateId);
    expect((await getGate(gate.runId, gate.gateId, 10)).state).toBe('timed-out');
  });
});
