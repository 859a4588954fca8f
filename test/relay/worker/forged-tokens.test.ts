/**
 * Forged and altered callback tokens (SPEC §3: "404 for an unknown or forged token"): over
 * 10,000 of them, made from real tokens of real gates — bits flipped, characters swapped, cut
 * short or extended, parts swapped between gates, an approval token where a callback token
 * goes, MACs made with a wrong secret or for another purpose, random tokens of the right shape,
 * and percent-encoded spellings of all of these. A share goes through HTTP with a valid decision
 * as the body (`{"success": true}`: accepted, it would decide), the rest straight to
 * verifyCallbackToken. None may be accepted, and the real gates stay pending.
 *
 * Replay with VITE_HOOKGATE_FUZZ_SEED=<seed>.
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { mintGateToken, verifyCallbackToken, verifyGateToken } from '../../../relay/tokens/gate-token.ts';
import type { TokenPurpose } from '../../../relay/tokens/gate-token.ts';
import { fromBase64Url, toBase64Url } from '../../../relay/tokens/crypto.ts';
import { ErrorBody } from '../../../shared/protocol.ts';
import { asciiString, caseRng, fuzzSeed } from '../../support/fuzz-random.ts';
import type { Rng } from '../../support/fuzz-random.ts';
import { approvalTokenOf, BASE, CALLBACK_SECRET, getGate, newRunId, register, registerApproval, tokenOf } from '../helpers.ts';

const SEED = fuzzSeed((import.meta as { env?: Record<string, string | undefined> }).env?.VITE_HOOKGATE_FUZZ_SEED, 20_261_117);
const TOTAL = 12_000;
/** One forged token in this many goes over HTTP (and every one only the route can judge); the rest straight to verifyCallbackToken. */
const HTTP_EVERY = 4;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

interface RealGate {
  runId: string;
  gateId: string;
  callback: string;
  /** The approval token of an approval gate; null for a webhook gate. */
  approval: string | null;
}

interface Forged {
  kind: string;
  /** The token as it appears in the URL path: possibly percent-encoded. */
  path: string;
  /** The token after percent-decoding, as the route sees it. */
  token: string;
  /** Checked over HTTP only: a spelling only the route decodes, or a token with a valid MAC for a gate its run lacks. */
  httpOnly?: boolean;
}

/** The token the route gets for this path: after the URL parser (which strips trailing spaces) and percent-decoding. */
function asRouted(path: string): string {
  const routed = new URL(`${BASE}/cb/${path}`).pathname.slice('/cb/'.length);
  try {
    return decodeURIComponent(routed);
  } catch {
    return routed;
  }
}

function parts(token: string): [string, string, string] {
  const [run = '', gate = '', mac = ''] = token.split('.');
  return [run, gate, mac];
}

function replaceAt(text: string, at: number, by: string): string {
  return text.slice(0, at) + by + text.slice(at + 1);
}

/** Every character, or some, as %XX; sometimes twice over (`%2541`), which must not be decoded twice. */
function percentEncode(rng: Rng, token: string): string {
  const mode = rng.int(4);
  return [...token]
    .map((c) => {
      if (mode === 0 || rng.chance(0.2)) {
        const hex = `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
        return mode === 3 ? `%25${hex.slice(1)}` : rng.chance(0.5) ? hex.toUpperCase() : hex;
      }
      return c;
    })
    .join('');
}

// Not '': WebCrypto refuses an empty HMAC key (and the relay answers 503 without CALLBACK_SECRET).
const WRONG_SECRETS = ['test-callback-secret ', ' test-callback-secret', 'TEST-CALLBACK-SECRET', 'test-callback-secreT', 'test-callback-secre', 'test-callback-secrett', 'hookgate-dev-callback-secret', 'test-relay-token'];

/** One forged token, from the real gates; never a real callback token itself. */
async function forge(rng: Rng, gates: readonly RealGate[]): Promise<Forged> {
  const gate = rng.pick(gates);
  const other = rng.pick(gates.filter((g) => g !== gate));
  const real = gate.callback;
  const [run, id, mac] = parts(real);
  const plain = (kind: string, token: string): Forged => ({ kind, path: token, token });
  const kind = rng.weighted<string>([
    [10, 'bit-flip'], [8, 'byte-flip'], [10, 'substitution'], [6, 'truncation'], [6, 'extension'], [6, 'swapped-parts'], [3, 'approval-as-callback'],
    [5, 'wrong-secret'], [3, 'wrong-purpose'], [6, 'random-shaped'], [3, 'random-string'], [6, 'percent-encoded'], [3, 'case'], [2, 'homoglyph'],
    [3, 'separators'], [2, 'other-run'],
  ]);
  switch (kind) {
    case 'bit-flip': {
      const at = rng.int(real.length);
      return plain(kind, replaceAt(real, at, String.fromCharCode(real.charCodeAt(at) ^ (1 << rng.int(7)))));
    }
    case 'byte-flip': {
      // A well-formed token whose run or MAC bytes differ in one bit: it parses, so only the MAC can refuse it.
      const which = rng.int(2);
      const bytes = fromBase64Url(which === 0 ? run : mac) ?? new Uint8Array();
      const at = rng.int(bytes.length);
      bytes[at] = (bytes[at] ?? 0) ^ (1 << rng.int(8));
      const flipped = toBase64Url(bytes);
      return plain(kind, which === 0 ? `${flipped}.${id}.${mac}` : `${run}.${id}.${flipped}`);
    }
    case 'substitution': {
      let token = real;
      for (let n = rng.range(1, 3); n > 0; n--) {
        const at = rng.int(token.length);
        if (token[at] === '.') continue;
        token = replaceAt(token, at, rng.pick([...ALPHABET].filter((c) => c !== token[at])));
      }
      return plain(kind, token);
    }
    case 'truncation':
      return plain(kind, rng.chance(0.7) ? real.slice(0, real.length - rng.range(1, 12)) : real.slice(rng.range(1, 12)));
    case 'extension':
      return plain(kind, rng.pick([`${real}${asciiString(rng, 4).replace(/[^A-Za-z0-9_-]/g, 'A') || 'A'}`, `${real}=`, `${real}==`, `${real}.`, `${real}.${mac}`, `A${real}`, `${run}.${id}A.${mac}`]));
    case 'swapped-parts': {
      const [oRun, oId, oMac] = parts(other.callback);
      return plain(kind, rng.pick([`${oRun}.${id}.${mac}`, `${run}.${oId}.${mac}`, `${run}.${id}.${oMac}`, `${oRun}.${oId}.${mac}`, `${run}.${oId}.${oMac}`, `${id}.${run}.${mac}`, `${mac}.${id}.${run}`]));
    }
    case 'approval-as-callback': {
      const approval = rng.pick(gates.filter((g) => g.approval !== null)).approval ?? '';
      return plain(kind, approval);
    }
    case 'wrong-secret':
      return plain(kind, await mintGateToken(rng.chance(0.8) ? rng.pick(WRONG_SECRETS) : `k${asciiString(rng, 32)}`, 'callback', gate.runId, gate.gateId));
    case 'wrong-purpose': {
      const purpose = rng.pick(['approval', 'Callback', 'callback ', 'callback\n', 'csrf', '']) as TokenPurpose;
      return plain(kind, await mintGateToken(CALLBACK_SECRET, purpose, gate.runId, gate.gateId));
    }
    case 'random-shaped': {
      const random = (n: number): string => Array.from({ length: n }, () => rng.pick([...ALPHABET])).join('');
      return plain(kind, rng.pick([`${run}.${id}.${random(43)}`, `${random(run.length)}.${id}.${mac}`, `${run}.${random(22)}.${mac}`, `${random(run.length)}.${random(22)}.${random(43)}`]));
    }
    case 'random-string':
      return plain(kind, Array.from({ length: rng.range(real.length - 5, real.length + 5) }, () => rng.pick([...ALPHABET, '.'])).join(''));
    case 'percent-encoded': {
      // A forged token spelled with %XX: the route decodes the path; it must still be refused.
      const inner = await forge(rng, gates);
      return { kind: `${kind}(${inner.kind})`, path: percentEncode(rng, inner.token), token: inner.token, httpOnly: true };
    }
    case 'case':
      return plain(kind, rng.pick([real.toUpperCase(), real.toLowerCase(), `${run}.${id.toUpperCase()}.${mac}`, `${run.toLowerCase()}.${id}.${mac}`]));
    case 'homoglyph': {
      const at = [...real].findIndex((c, i) => i >= rng.int(real.length) && /[AEOaceop]/.test(c));
      const glyphs: Record<string, string> = { A: 'А', E: 'Е', O: 'О', a: 'а', c: 'с', e: 'е', o: 'о', p: 'р' };
      const token = at < 0 ? `${real}А` : replaceAt(real, at, glyphs[real[at] ?? 'A'] ?? 'А');
      return { kind, path: encodeURIComponent(token), token, httpOnly: true };
    }
    case 'separators': {
      const token = rng.pick([real.replace(/\./g, '%2E'), real.replace('.', '%2F'), `${run}..${id}.${mac}`, `${run}.${id}.${mac}%00`, `${run}.${id}.${mac}%20`, `${run}.${id}.${mac}+`, real.replace('.', ' ')]);
      return { kind, path: token.replace(/ /g, '%20'), token: decodeURIComponent(token), httpOnly: true };
    }
    default:
      // A real gate id under a run it does not belong to, with a valid MAC (only the relay could mint it): no such gate there.
      return { ...plain(kind, await mintGateToken(CALLBACK_SECRET, 'callback', other.runId, gate.gateId)), httpOnly: true };
  }
}

describe('forged callback tokens', () => {
  it(`refuses ${TOTAL} forged or altered tokens with 404, and the real gates stay pending`, async () => {
    const gates: RealGate[] = [];
    for (let r = 0; r < 4; r++) {
      const runId = newRunId(`forged-${r}`);
      for (let g = 0; g < 6; g++) {
        const gate = await register({ runId, stepKey: `forged/${g}` });
        gates.push({ runId, gateId: gate.gateId, callback: tokenOf(gate.callbackUri), approval: null });
      }
      const approval = await registerApproval({ runId, stepKey: 'forged/approval', target: `prod-${r}` });
      gates.push({ runId, gateId: approval.gateId, callback: tokenOf(approval.callbackUri), approval: approvalTokenOf(approval.approvalUrl) });
    }
    const realTokens = new Set(gates.map((g) => g.callback));
    // The set-up must be sound: each real token verifies, so a refusal below is the forging's doing.
    for (const g of gates) expect(await verifyCallbackToken(CALLBACK_SECRET, g.callback)).toEqual({ runId: g.runId, gateId: g.gateId });

    const byKind = new Map<string, number>();
    const accepted: string[] = [];
    const unexpected: string[] = [];
    let http = 0;
    let direct = 0;
    let httpMs = 0;
    let directMs = 0;
    let skipped = 0;

    for (let i = 0; i < TOTAL; i++) {
      const rng = caseRng(SEED, 'forged', i);
      const forged = await forge(rng, gates);
      if (realTokens.has(forged.token) || realTokens.has(asRouted(forged.path))) {
        // A mutation that gave back a real token (a percent-encoding of it, or a trailing space the URL parser strips) is no forgery.
        skipped++;
        continue;
      }
      const kind = forged.kind.replace(/\(.*\)/, '(…)');
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      const where = `seed ${SEED}, token #${i} (${forged.kind}): ${JSON.stringify(forged.path)}`;
      if (forged.httpOnly === true || i % HTTP_EVERY === 0) {
        http++;
        const t0 = performance.now();
        const suffix = rng.chance(0.5) ? '/callback' : '';
        const res = await SELF.fetch(`${BASE}/cb/${forged.path}${suffix}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer external-system-token' },
          body: '{"success": true, "mdMessage": "forged"}',
        });
        const text = await res.text();
        httpMs += performance.now() - t0;
        if (res.status !== 404) {
          (res.status < 300 ? accepted : unexpected).push(`${where} → ${res.status} ${text.slice(0, 200)}`);
          continue;
        }
        const body = ErrorBody.safeParse(JSON.parse(text));
        if (!body.success || body.data.error !== 'not_found') unexpected.push(`${where} → 404 but ${text.slice(0, 200)}`);
      } else {
        direct++;
        const t0 = performance.now();
        const ref = await verifyCallbackToken(CALLBACK_SECRET, forged.token);
        directMs += performance.now() - t0;
        if (ref !== null) accepted.push(`${where} → verified as ${JSON.stringify(ref)}`);
      }
    }

    // The real gates: still pending, nothing recorded.
    for (const g of gates) {
      const view = await getGate(g.runId, g.gateId);
      if (view.state !== 'pending' || view.progress.length > 0) accepted.push(`gate ${g.gateId} is ${view.state} with ${view.progress.length} progress report(s)`);
    }

    console.log(
      [
        `forged tokens (seed ${SEED}): ${http + direct - accepted.length} of ${http + direct} refused: ${http} over HTTP in ${(httpMs / 1000).toFixed(1)} s (${(httpMs / Math.max(1, http)).toFixed(2)} ms each), ${direct} by verifyCallbackToken in ${(directMs / 1000).toFixed(1)} s (${((directMs / Math.max(1, direct)) * 1000).toFixed(0)} µs each); ${skipped} mutations gave back a real token and were not counted`,
        `  kinds: ${[...byKind].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', ')}`,
      ].join('\n'),
    );
    expect(accepted, accepted.slice(0, 20).join('\n')).toEqual([]);
    expect(unexpected.slice(0, 20), unexpected.slice(0, 20).join('\n')).toEqual([]);
    expect(http + direct).toBeGreaterThanOrEqual(10_000);
    expect(http).toBeGreaterThanOrEqual(2_000);
  }, 300_000);

  it('refuses each gate’s callback token on its approval page, and its approval token as a callback', async () => {
    const approval = await registerApproval({ runId: newRunId('forged-swap') });
    const callbackToken = tokenOf(approval.callbackUri);
    const approvalToken = approvalTokenOf(approval.approvalUrl);
    expect(await verifyGateToken(CALLBACK_SECRET, 'approval', callbackToken)).toBeNull();
    const page = await SELF.fetch(`${BASE}/approve/${callbackToken}`);
    expect(page.status).toBe(404);
    const post = await SELF.fetch(`${BASE}/cb/${approvalToken}`, { method: 'POST', body: '{"success": true}' });
    expect(post.status).toBe(404);
    expect((await getGate(approval.runId, approval.gateId)).state).toBe('pending');
  });

  it('reads a percent-encoded spelling of a real token as that token (RFC 3986 §6.2.2.2), for that gate only', async () => {
    // Not a forgery: the same URI, spelled with %XX for unreserved characters, as proxies may rewrite it.
    const runId = newRunId('forged-encoded');
    const gate = await register({ runId, stepKey: 'encoded' });
    const bystander = await register({ runId, stepKey: 'bystander' });
    const token = tokenOf(gate.callbackUri);
    const encoded = [...token].map((c, i) => (i % 3 === 0 ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : c)).join('');
    const res = await SELF.fetch(`${BASE}/cb/${encoded}`, { method: 'POST', body: '{"success": true, "mdMessage": "encoded"}' });
    expect(res.status).toBe(200);
    expect((await getGate(runId, gate.gateId)).message).toBe('encoded');
    expect((await getGate(runId, bystander.gateId)).state).toBe('pending');
    // Encoded twice (%2541 for A) it is another token, and refused.
    const twice = [...tokenOf(bystander.callbackUri)].map((c, i) => (i === 0 ? `%25${c.charCodeAt(0).toString(16)}` : c)).join('');
    expect((await SELF.fetch(`${BASE}/cb/${twice}`, { method: 'POST', body: '{"success": true}' })).status).toBe(404);
    expect((await getGate(runId, bystander.gateId)).state).toBe('pending');
  });
});
