/** Gate tokens (relay/tokens/gate-token.ts): per gate and purpose; refused when forged, altered, malformed or of another purpose. */
import { describe, expect, it } from 'vitest';
import { mintGateToken, verifyCallbackToken, verifyGateToken } from '../../../relay/tokens/gate-token.ts';
import { fromBase64Url, toBase64Url } from '../../../relay/tokens/crypto.ts';
import { alterChar } from '../helpers.ts';

const SECRET = 'token-test-secret';
const RUN_ID = 'acme/potato-facts/123456789';
const GATE_ID = 'AbCdEfGhIjKlMnOpQrStUv';
const OTHER_GATE_ID = 'ZyXwVuTsRqPoNmLkJiHgFe';

function parts(token: string): [string, string, string] {
  const [run = '', gate = '', mac = ''] = token.split('.');
  return [run, gate, mac];
}

describe('mintGateToken (callback)', () => {
  it('has the form <base64url(runId)>.<gateId>.<base64url(mac)> and is URL-safe', async () => {
    const token = await mintGateToken(SECRET, 'callback', RUN_ID, GATE_ID);
    const [run, gate, mac] = parts(token);
    expect(new TextDecoder().decode(fromBase64Url(run) ?? new Uint8Array())).toBe(RUN_ID);
    expect(gate).toBe(GATE_ID);
    expect(fromBase64Url(mac)?.length).toBe(32);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(encodeURIComponent(token)).toBe(token);
  });

  it('is deterministic for one secret, run and gate, and differs when any of them differs', async () => {
    const token = await mintGateToken(SECRET, 'callback', RUN_ID, GATE_ID);
    expect(await mintGateToken(SECRET, 'callback', RUN_ID, GATE_ID)).toBe(token);
    const macs = new Set(
      await Promise.all([
        mintGateToken(SECRET, 'callback', RUN_ID, GATE_ID),
        mintGateToken('another-secret', 'callback', RUN_ID, GATE_ID),
        mintGateToken(SECRET, 'callback', `${RUN_ID}0`, GATE_ID),
        mintGateToken(SECRET, 'callback', RUN_ID, OTHER_GATE_ID),
      ]).then((tokens) => tokens.map((minted) => parts(minted)[2])),
    );
    expect(macs.size).toBe(4);
  });
});

describe('verifyCallbackToken', () => {
  it('returns the run and gate of a token it minted', async () => {
    const token = await mintGateToken(SECRET, 'callback', RUN_ID, GATE_ID);
    expect(await verifyCallbackToken(SECRET, token)).toEqual({ runId: RUN_ID, gateId: GATE_ID });
  });

  it('round-trips run ids with every printable ASCII character', async () => {
    const runId = Array.from({ length: 0x7e - 0x21 + 1 }, (_, index) => String.fromCharCode(0x21 + index)).join('');
    const token = await mintGateToken(SECRET, 'callback', runId, GATE_ID);
    expect(await verifyCallbackToken(SECRET, token)).toEqual({ runId, gateId: GATE_ID });
  });

  it('refuses a token minted with another secret', async () => {
    const token = await mintGateToken('another-secret', 'callback', RUN_ID, GATE_ID);
    expect(await verifyCallbackToken(SECRET, token)).toBeNull();
  });

  it('refuses a token whose gate id or run part was swapped for another', async () => {
    const token = await mintGateToken(SECRET, 'callback', RUN_ID, GATE_ID);
    const other = await mintGateToken(SECRET, 'callback', 'acme/other/1', OTHER_GATE_ID);
    const [run, gate, mac] = parts(token);
    const [otherRun, otherGate, otherMac] = parts(other);
    expect(await verifyCallbackToken(SECRET, `${run}.${otherGate}.${mac}`)).toBeNull();
    expect(await verifyCallbackToken(SECRET, `${otherRun}.${gate}.${mac}`)).toBeNull();
    expect(await verifyCallbackToken(SECRET, `${run}.${gate}.${otherMac}`)).toBeNull();
  });

  it('refuses a token with any one character of any part altered', async () => {
    const token = await mintGateToken(SECRET, 'callback', RUN_ID, GATE_ID);
    const accepted: number[] = [];
    for (let index = 0; index < token.length; index += 1) {
      if (token[index] === '.') continue;
      const altered = alterChar(token, index);
      if ((await verifyCallbackToken(SECRET, altered)) !== null) accepted.push(index);
    }
    // base64url's last character of the run and MAC parts carries padding bits: a lenient
    // decoder maps several spellings to the same bytes, so those positions must be checked too.
    expect(accepted).toEqual([]);
  });

  it('refuses a non-canonical spelling of the run or MAC part', async () => {
    const token = await mintGateToken(SECRET, 'callback', RUN_ID, GATE_ID);
    const [run, gate, mac] = parts(token);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const accepted: string[] = [];
    for (const char of alphabet) {
      for (const variant of [`${run.slice(0, -1)}${char}.${gate}.${mac}`, `${run}.${gate}.${mac.slice(0, -1)}${char}`]) {
        if (variant !== token && (await verifyCallbackToken(SECRET, variant)) !== null) accepted.push(variant);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('refuses malformed tokens', async () => {
    const token = await mintGateToken(SECRET, 'callback', RUN_ID, GATE_ID);
    const [run, gate, mac] = parts(token);
    const runWithSpace = toBase64Url(new TextEncoder().encode('acme/app 1'));
    const validForSpace = await mintGateToken(SECRET, 'callback', 'acme/app 1', GATE_ID);
    const malformed = [
      '',
      '.',
      '..',
      run,
      `${run}.${gate}`,
      `${run}.${gate}.${mac}.extra`,
      `${run}.${gate}.${mac}.`,
      `${run}=.${gate}.${mac}`,
      `${run}.${gate}.${mac}=`,
      `${run}.${gate}.${mac.slice(0, -2)}`,
      `${run}.${gate}.${mac}AA`,
      `${run}.${gate.slice(0, -1)}.${mac}`,
      `${run}.${gate}A.${mac}`,
      `.${gate}.${mac}`,
      `${run}..${mac}`,
      `${run}.${gate}.`,
      `${run.replace(/./, '+')}.${gate}.${mac}`,
      `${toBase64Url(new Uint8Array([0xff, 0xfe]))}.${gate}.${mac}`,
      `${runWithSpace}.${gate}.${parts(validForSpace)[2]}`,
      `${toBase64Url(new TextEncoder().encode('x'.repeat(201)))}.${gate}.${mac}`,
      `${'A'.repeat(700)}.${gate}.${mac}`,
    ];
    for (const candidate of malformed) {
      expect(await verifyCallbackToken(SECRET, candidate), candidate).toBeNull();
    }
  });
});

describe('token purposes', () => {
  it('keeps the first relay’s callback tokens valid (the MAC input is unchanged)', async () => {
    // Minted by the first relay's code (git HEAD before approvals); callback URIs already handed out must keep working.
    expect(await mintGateToken(SECRET, 'callback', RUN_ID, GATE_ID)).toBe(
      'YWNtZS9wb3RhdG8tZmFjdHMvMTIzNDU2Nzg5.AbCdEfGhIjKlMnOpQrStUv.urIhKseKQ5U_7AVPKwReCvWdfgiaJz3miRE-elzxyt0',
    );
  });

  it('gives one gate different callback and approval tokens, each valid only for its purpose', async () => {
    const callback = await mintGateToken(SECRET, 'callback', RUN_ID, GATE_ID);
    const approval = await mintGateToken(SECRET, 'approval', RUN_ID, GATE_ID);
    expect(approval).not.toBe(callback);
    expect(parts(approval).slice(0, 2)).toEqual(parts(callback).slice(0, 2));
    expect(await verifyGateToken(SECRET, 'approval', approval)).toEqual({ runId: RUN_ID, gateId: GATE_ID });
    expect(await verifyGateToken(SECRET, 'callback', callback)).toEqual({ runId: RUN_ID, gateId: GATE_ID });
    expect(await verifyGateToken(SECRET, 'approval', callback)).toBeNull();
    expect(await verifyGateToken(SECRET, 'callback', approval)).toBeNull();
    expect(await verifyCallbackToken(SECRET, approval)).toBeNull();
  });

  it('refuses an approval token with any one character altered', async () => {
    const token = await mintGateToken(SECRET, 'approval', RUN_ID, GATE_ID);
    const accepted: number[] = [];
    for (let index = 0; index < token.length; index += 1) {
      if (token[index] === '.') continue;
      if ((await verifyGateToken(SECRET, 'approval', alterChar(token, index))) !== null) accepted.push(index);
    }
    expect(accepted).toEqual([]);
  });
});
