/**
 * Callback tokens: `<base64url(runId)>.<gateId>.<mac>`, where gateId carries 128
 * random bits and mac = HMAC-SHA256(CALLBACK_SECRET, runId, gateId). The MAC lets
 * the Worker refuse forged or altered tokens before it touches a Durable Object,
 * and binds a token to exactly one run and gate.
 */
import { GateId, RunId } from '../shared/protocol.ts';
import { fromBase64Url, hmacSign, hmacVerify, toBase64Url } from './crypto.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
/** A well-formed MAC that verifies nothing: forged tokens still pay for one verify. */
const DUMMY_MAC = new Uint8Array(32);

function macInput(runId: string, gateId: string): string {
  return `hookgate-callback-v1\n${runId}\n${gateId}`;
}

/** Mints the token for one gate. */
export async function mintCallbackToken(secret: string, runId: string, gateId: string): Promise<string> {
  const mac = await hmacSign(secret, macInput(runId, gateId));
  return `${toBase64Url(encoder.encode(runId))}.${gateId}.${toBase64Url(mac)}`;
}

/** The run and gate a token names, or null for any malformed, altered or forged token. */
export async function verifyCallbackToken(
  secret: string,
  token: string,
): Promise<{ runId: string; gateId: string } | null> {
  const parsed = parseToken(token);
  // Verify even when parsing failed so a malformed token takes as long as a forged one.
  const valid = await hmacVerify(
    secret,
    macInput(parsed?.runId ?? '', parsed?.gateId ?? ''),
    parsed?.mac ?? DUMMY_MAC,
  );
  return valid && parsed ? { runId: parsed.runId, gateId: parsed.gateId } : null;
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
