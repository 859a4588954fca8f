/**
 * Gate tokens: `<base64url(runId)>.<gateId>.<mac>`, where gateId carries 128 random
 * bits and mac = HMAC-SHA256(CALLBACK_SECRET, purpose, runId, gateId). The MAC lets
 * the Worker refuse forged or altered tokens before it touches a Durable Object, and
 * binds a token to exactly one run, gate and purpose: a callback token (SPEC §3) is
 * never a valid approval token (SPEC §4), nor the other way round.
 */
import { GateId, RunId } from '../../shared/protocol.ts';
import { fromBase64Url, hmacSign, hmacVerify, toBase64Url } from './crypto.ts';

/** What a token lets its holder do: post a callback, or decide on the approval page. */
export type TokenPurpose = 'callback' | 'approval';

export type GateRef = { runId: string; gateId: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
/** A well-formed MAC that verifies nothing: forged tokens still pay for one verify. */
const DUMMY_MAC = new Uint8Array(32);

function macInput(purpose: TokenPurpose, runId: string, gateId: string): string {
  // `hookgate-callback-v1` is the first version's string: callback URIs already handed out stay valid.
  return `hookgate-${purpose}-v1\n${runId}\n${gateId}`;
}

/** Mints the token of one gate for one purpose. */
export async function mintGateToken(
  secret: string,
  purpose: TokenPurpose,
  runId: string,
  gateId: string,
): Promise<string> {
  const mac = await hmacSign(secret, macInput(purpose, runId, gateId));
  return `${toBase64Url(encoder.encode(runId))}.${gateId}.${toBase64Url(mac)}`;
}

/** The run and gate a token of this purpose names, or null for any malformed, altered, forged or other-purpose token. */
export async function verifyGateToken(secret: string, purpose: TokenPurpose, token: string): Promise<GateRef | null> {
  const parsed = parseToken(token);
  // Verify even when parsing failed so a malformed token takes as long as a forged one.
  const valid = await hmacVerify(
    secret,
    macInput(purpose, parsed?.runId ?? '', parsed?.gateId ?? ''),
    parsed?.mac ?? DUMMY_MAC,
  );
  return valid && parsed ? { runId: parsed.runId, gateId: parsed.gateId } : null;
}

/** The run and gate of a callback token, or null. */
export function verifyCallbackToken(secret: string, token: string): Promise<GateRef | null> {
  return verifyGateToken(secret, 'callback', token);
}

function parseToken(token: string): { runId: string; gateId: string; mac: Uint8Array } | null {
  if (token.length > 600) return null;
  const [runPart, gateId, macPart, ...rest] = token.split('.');
  if (runPart === undefined || gateId === undefined || macPart === undefined || rest.length > 0) return null;
  const runBytes = fromBase64Url(runPart);
  const mac = fromBase64Url(macPart);
  if (!runBytes || !mac || mac.length !== 32) return null;
  let runId: string;
  try {
    runId = decoder.decode(runBytes);
  } catch {
    return null;
  }
  if (!RunId.safeParse(runId).success || !GateId.safeParse(gateId).success) return null;
  return { runId, gateId, mac };
}
