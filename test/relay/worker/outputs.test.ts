/** A decision's outputs (SPEC §11): stored with the gate, returned in every view, the first decision's kept, bounded. */
import { describe, expect, it } from 'vitest';
import { MAX_OUTPUT_KEYS, MAX_OUTPUTS_BYTES } from '../../../shared/protocol.ts';
import { decide, expectError, getGate, postCallback, register, runInObject } from '../helpers.ts';

const OUTPUTS = { buildId: 'b-1234', artifact_url: 'https://ci.example/a/1', attempts: 3, ratio: 0.5, green: true, empty: '' };

describe('a decision’s outputs', () => {
  it('are stored with the gate and returned in every view; null without', async () => {
    const gate = await register();
    expect(gate.outputs).toBeNull();
    expect((await getGate(gate.runId, gate.gateId)).outputs).toBeNull();
    await decide(gate.callbackUri, { success: true, mdMessage: 'built', outputs: OUTPUTS });
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'succeeded', message: 'built', outputs: OUTPUTS });
    // The idempotent re-registration answers the stored view too.
    expect((await register(gate.request)).outputs).toEqual(OUTPUTS);
    const stored = await runInObject(gate.runId, (state) =>
      state.storage.sql.exec<{ outputs: string }>('SELECT outputs FROM gates WHERE id = ?', gate.gateId).one().outputs,
    );
    expect(JSON.parse(stored)).toEqual(OUTPUTS);

    const plain = await register({ runId: gate.runId, stepKey: 'plain' });
    await decide(plain.callbackUri, { success: false, mdMessage: 'no outputs' });
    expect((await getGate(plain.runId, plain.gateId)).outputs).toBeNull();
  });

  it('of a failure are kept too', async () => {
    const gate = await register();
    await decide(gate.callbackUri, { success: false, outputs: { reason: 'tests red', failed: 7 } });
    expect((await getGate(gate.runId, gate.gateId)).outputs).toEqual({ reason: 'tests red', failed: 7 });
  });

  it('are the first decision’s: a repeat with other outputs is 200 and changes nothing', async () => {
    const gate = await register();
    await decide(gate.callbackUri, { success: true, outputs: { version: '1.0.0' } });
    const repeat = await postCallback(gate.callbackUri, { success: true, outputs: { version: '2.0.0', extra: 1 } });
    expect(repeat.status).toBe(200);
    const without = await postCallback(gate.callbackUri, { success: true });
    expect(without.status).toBe(200);
    await expectError(await postCallback(gate.callbackUri, { success: false, outputs: { version: '3' } }), 409, 'conflict');
    expect((await getGate(gate.runId, gate.gateId)).outputs).toEqual({ version: '1.0.0' });
  });

  const badOutputs: [string, unknown, RegExp][] = [
    ['a key with a space', { 'build id': 'x' }, /^outputs\.build id: must be a name of letters, digits, _ and -/],
    ['a key starting with a digit', { '1st': 'x' }, /^outputs\.1st: must be a name/],
    ['a key with a dot', { 'a.b': 'x' }, /^outputs\.a\.b: must be a name/],
    ['a list', { list: [1, 2] }, /^outputs\.list: must be a string, a number or true\/false \(outputs are flat\)/],
    ['a map', { map: { a: 1 } }, /^outputs\.map: must be a string, a number or true\/false/],
    ['null', { nothing: null }, /^outputs\.nothing: must be a string, a number or true\/false/],
    ['not an object', 'a string', /^outputs: /],
  ];
  for (const [label, outputs, message] of badOutputs) {
    it(`with ${label} are a 400 naming the key, and decide nothing`, async () => {
      const gate = await register();
      const error = await expectError(await postCallback(gate.callbackUri, { success: true, outputs }), 400, 'bad_request');
      expect(error.message).toMatch(message);
      expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'pending', outputs: null });
    });
  }

  it(`are at most ${MAX_OUTPUT_KEYS} keys: 51 is a 400, 50 are kept`, async () => {
    const keys = (count: number): Record<string, number> => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i]));
    const gate = await register();
    const error = await expectError(await postCallback(gate.callbackUri, { success: true, outputs: keys(51) }), 400, 'bad_request');
    expect(error.message).toBe('outputs: must have at most 50 keys');
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
    await decide(gate.callbackUri, { success: true, outputs: keys(50) });
    expect(Object.keys((await getGate(gate.runId, gate.gateId)).outputs ?? {})).toHaveLength(50);
  });

  it('larger than the body limit are a 413 that decides nothing (a body holds at most 64 KiB of outputs JSON)', async () => {
    const gate = await register();
    const huge = { blob: 'x'.repeat(MAX_OUTPUTS_BYTES) };
    await expectError(await postCallback(gate.callbackUri, { success: true, outputs: huge }), 413, 'payload_too_large');
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
    const fits = { blob: 'x'.repeat(MAX_OUTPUTS_BYTES - 100) };
    await decide(gate.callbackUri, { success: true, outputs: fits });
    expect((await getGate(gate.runId, gate.gateId)).outputs).toEqual(fits);
  });

  it('come with a decision only: a progress report with outputs is a 400 saying so', async () => {
    const gate = await register();
    const error = await expectError(await postCallback(gate.callbackUri, { progress: true, mdMessage: 'x', outputs: { a: 1 } }), 400, 'bad_request');
    expect(error.message).toBe('outputs: outputs come with the decision (success), not with a progress report');
    expect((await getGate(gate.runId, gate.gateId)).progress).toEqual([]);
  });
});
