/** The callback URIs (relay/worker/callback-routes.ts, SPEC §3) refuse forged tokens before any run object is touched. */
import { env, listDurableObjectIds } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { mintGateToken } from '../../../relay/tokens/gate-token.ts';
import { toBase64Url } from '../../../relay/tokens/crypto.ts';
import {
  alterChar,
  BASE,
  CALLBACK_SECRET,
  expectError,
  getGate,
  newRunId,
  postCallback,
  register,
  tokenOf,
} from '../helpers.ts';

describe('forged callback tokens', () => {
  /** A made-up run no gate was registered for, and its object id. */
  function madeUpRun(): { runId: string; objectId: DurableObjectId } {
    const runId = newRunId('made-up');
    return { runId, objectId: env.RUNS.idFromName(runId) };
  }

  async function expectNoObject(objectId: DurableObjectId): Promise<void> {
    const ids = await listDurableObjectIds(env.RUNS);
    expect(ids.some((id) => id.equals(objectId))).toBe(false);
  }

  async function expectForged(uri: string): Promise<void> {
    // A forged token is refused before its body is read: an attacker learns nothing from a 400.
    await expectError(await postCallback(uri, { success: true }), 404, 'not_found');
    await expectError(await postCallback(`${uri}/callback`, { success: true }), 404, 'not_found');
    await expectError(await postCallback(uri, 'not json'), 404, 'not_found');
  }

  it('answers 404 to random strings', async () => {
    for (const token of ['x', 'abc.def.ghi', crypto.randomUUID(), 'a'.repeat(700), '..', '%2e%2e']) {
      await expectForged(`${BASE}/cb/${token}`);
    }
  });

  it('answers 404 to a malformed token naming a made-up run and creates no Durable Object', async () => {
    const { runId, objectId } = madeUpRun();
    const runPart = toBase64Url(new TextEncoder().encode(runId));
    for (const token of [`${runPart}.short.mac`, `${runPart}`, `${runPart}.${'A'.repeat(22)}.${'A'.repeat(10)}`]) {
      await expectForged(`${BASE}/cb/${token}`);
    }
    await expectNoObject(objectId);
  });

  it('answers 404 to a well-formed token for a made-up run and creates no Durable Object', async () => {
    const { runId, objectId } = madeUpRun();
    const gateId = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
    const mac = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
    await expectForged(`${BASE}/cb/${toBase64Url(new TextEncoder().encode(runId))}.${gateId}.${mac}`);
    await expectNoObject(objectId);
  });

  it('answers 404 to a token minted with another secret and creates no Durable Object', async () => {
    const { runId, objectId } = madeUpRun();
    const gateId = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
    await expectForged(`${BASE}/cb/${await mintGateToken('another-secret', 'callback', runId, gateId)}`);
    await expectNoObject(objectId);

    // Also for a real gate: the right run and gate under the wrong key.
    const gate = await register();
    await expectForged(`${BASE}/cb/${await mintGateToken('another-secret', 'callback', gate.runId, gate.gateId)}`);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });

  it('answers 404 when one character of any of the three parts is altered', async () => {
    const gate = await register();
    const token = tokenOf(gate.callbackUri);
    const [runPart = '', gatePart = '', macPart = ''] = token.split('.');
    const offsets = { run: 0, gate: runPart.length + 1, mac: runPart.length + gatePart.length + 2 };
    const altered = [
      alterChar(token, offsets.run + 3),
      alterChar(token, offsets.run + Math.floor(runPart.length / 2)),
      alterChar(token, offsets.gate),
      alterChar(token, offsets.gate + gatePart.length - 1),
      alterChar(token, offsets.mac),
      alterChar(token, offsets.mac + Math.floor(macPart.length / 2)),
    ];
    for (const forged of altered) {
      expect(forged).not.toBe(token);
      await expectForged(gate.callbackUri.replace(token, forged));
    }
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });

  it('answers 404 to the last character of the run or MAC part re-encoded (tokens are canonical)', async () => {
    // base64url's last character carries padding bits a lenient decoder drops; a token must be
    // exactly the one minted, or one gate has several valid URIs.
    const gate = await register();
    const token = tokenOf(gate.callbackUri);
    const [runPart = '', gatePart = '', macPart = ''] = token.split('.');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const accepted: string[] = [];
    for (const char of alphabet) {
      const variants = [
        `${runPart.slice(0, -1)}${char}.${gatePart}.${macPart}`,
        `${runPart}.${gatePart}.${macPart.slice(0, -1)}${char}`,
      ];
      for (const variant of variants) {
        if (variant === token) continue;
        const res = await postCallback(gate.callbackUri.replace(token, variant), { progress: true, mdMessage: 'probe' });
        if (res.status !== 404) accepted.push(variant);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('answers 404 to a token of another gate with the gate id swapped', async () => {
    const a = await register();
    const b = await register({ runId: a.runId, stepKey: 'other-step' });
    const [runA = '', gateA = '', macA = ''] = tokenOf(a.callbackUri).split('.');
    const [runB = '', gateB = '', macB = ''] = tokenOf(b.callbackUri).split('.');
    expect(runA).toBe(runB);
    await expectForged(`${BASE}/cb/${runA}.${gateB}.${macA}`);
    await expectForged(`${BASE}/cb/${runB}.${gateA}.${macB}`);

    // Across runs: a's run with c's gate and MAC.
    const c = await register({ runId: newRunId() });
    const [runC = '', gateC = '', macC = ''] = tokenOf(c.callbackUri).split('.');
    await expectForged(`${BASE}/cb/${runA}.${gateC}.${macC}`);
    await expectForged(`${BASE}/cb/${runC}.${gateA}.${macA}`);

    for (const gate of [a, b, c]) expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });

  it('uses the configured secret: a token minted with CALLBACK_SECRET is accepted', async () => {
    const gate = await register();
    expect(tokenOf(gate.callbackUri)).toBe(await mintGateToken(CALLBACK_SECRET, 'callback', gate.runId, gate.gateId));
  });

  it('answers 404 to a valid token whose gate does not exist in its run', async () => {
    const gate = await register();
    const gateId = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
    const token = await mintGateToken(CALLBACK_SECRET, 'callback', gate.runId, gateId);
    await expectError(await postCallback(`${BASE}/cb/${token}`, { success: true }), 404, 'not_found');
  });
});
