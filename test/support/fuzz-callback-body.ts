/**
 * The callback fuzz's bodies and its oracle: random callback bodies, and what each means under
 * SPEC §3, worked out here without the relay's code. Runs inside workerd: no Node-only imports.
 */
import { asciiString, deepJsonText, INVALID_UTF8, isRecord, longString, ODD_NUMBERS, randomJsonText, unicodeString } from './fuzz-random.ts';
import type { Rng } from './fuzz-random.ts';
import { BODY_LIMIT, encode, oversized, readJsonBody, withBytes } from './fuzz-http.ts';
import type { FuzzBody } from './fuzz-http.ts';

/** Longest callback mdMessage (shared/protocol.ts MAX_MESSAGE_CHARS), repeated here so the oracle does not borrow the shared constant. */
export const MESSAGE_LIMIT = 16 * 1024;

/**
 * A callback body: mostly malformed, sometimes a valid decision or progress report, sometimes a
 * near miss. `decisions` scales how often a valid decision comes: low keeps a gate pending longer,
 * so more invalid bodies meet a pending gate.
 */
export function callbackBody(rng: Rng, decisions = 1): FuzzBody {
  const kind = rng.weighted<string>([
    [8 * decisions, 'valid-decision'], [5, 'valid-progress'], [10, 'near-miss'], [6, 'random-json'], [4, 'truncated-json'], [4, 'random-bytes'],
    [3, 'invalid-utf8'], [2, 'bom-json'], [2, 'deep-nesting'], [3, 'proto-keys'], [2, 'huge-numbers'], [2, 'nulls'], [2, 'empty'],
    [2, 'form'], [2, 'long-string'], [1, 'oversized'], [2, 'json-extensions'], [2, 'duplicate-keys'],
  ]);
  return shapedBody(rng, kind) ?? oddBody(rng, kind);
}

/** An mdMessage: mostly short, sometimes right at MESSAGE_LIMIT (in letters or in rockets). */
function message(rng: Rng): string {
  return rng.weighted<string>([
    [6, asciiString(rng, 40)],
    [2, unicodeString(rng)],
    [1, 'm'.repeat(rng.pick([MESSAGE_LIMIT - 1, MESSAGE_LIMIT, MESSAGE_LIMIT + 1]))],
    [1, '🚀'.repeat(rng.pick([MESSAGE_LIMIT / 2, MESSAGE_LIMIT / 2 + 1, MESSAGE_LIMIT, MESSAGE_LIMIT + 1]))],
  ]);
}

/** Bodies shaped like a callback (valid, near misses, broken JSON); null for the other kinds. */
function shapedBody(rng: Rng, kind: string): FuzzBody | null {
  switch (kind) {
    case 'valid-decision': {
      const fields = [`"success": ${rng.pick(['true', 'false'])}`];
      if (rng.chance(0.7)) fields.push(`"mdMessage": ${JSON.stringify(message(rng))}`);
      if (rng.chance(0.2)) fields.push(`"extra": ${randomJsonText(rng, 2)}`);
      return withBytes(kind, `{${rng.shuffle(fields).join(', ')}}`, rng);
    }
    case 'valid-progress':
      return withBytes(kind, JSON.stringify({ progress: true, mdMessage: message(rng) }), rng);
    case 'near-miss': {
      // Each field swapped for a value of another type, dropped, or doubled up.
      const success = rng.pick(['"true"', '"false"', '1', '0', 'null', '[]', '{}', '"yes"', 'true', 'false', undefined]);
      const progress = rng.pick(['true', 'false', '"true"', '1', 'null', undefined, undefined]);
      const md = rng.pick([JSON.stringify(message(rng)), '1', 'null', 'true', '[]', '{"x": 1}', undefined]);
      const fields = [
        success === undefined ? undefined : `"success": ${success}`,
        progress === undefined ? undefined : `"progress": ${progress}`,
        md === undefined ? undefined : `"mdMessage": ${md}`,
      ].filter((f): f is string => f !== undefined);
      return withBytes(kind, `{${fields.join(',')}}`, rng);
    }
    case 'random-json':
      return withBytes(kind, randomJsonText(rng, 4), rng);
    case 'truncated-json': {
      const text = JSON.stringify({ success: rng.chance(0.5), mdMessage: message(rng) });
      return withBytes(kind, text.slice(0, rng.int(text.length)), rng);
    }
    case 'random-bytes':
      return withBytes(kind, rng.bytes(rng.range(0, 2048)), rng);
    case 'invalid-utf8': {
      const bytes = Array.from(encode(`{"success": true, "mdMessage": "${asciiString(rng, 20).replace(/["\\]/g, '')}"}`));
      bytes.splice(rng.range(1, bytes.length - 1), 0, ...rng.pick(INVALID_UTF8));
      return withBytes(kind, new Uint8Array(bytes), rng);
    }
    case 'bom-json':
      return withBytes(kind, `\ufeff{"success": ${rng.pick(['true', 'false'])}}`, rng);
    case 'deep-nesting': {
      const depth = rng.pick([100, 1000, 10_000, 30_000]);
      return withBytes(kind, rng.chance(0.5) ? deepJsonText(rng, depth) : `{"success": true, "mdMessage": ${deepJsonText(rng, depth)}}`, rng);
    }
    default:
      return null;
  }
}

/** Bodies of odd JSON: prototype keys, huge numbers, nulls, forms, oversized and duplicate keys. */
function oddBody(rng: Rng, kind: string): FuzzBody {
  switch (kind) {
    case 'proto-keys':
      return withBytes(
        kind,
        rng.pick([
          '{"__proto__": {"success": true}}',
          '{"__proto__": {"success": true}, "success": "no"}',
          '{"constructor": {"prototype": {"success": true}}}',
          '{"success": true, "__proto__": {"polluted": true}}',
          '{"progress": true, "mdMessage": "x", "__proto__": null}',
          '{"toString": 1, "valueOf": 2, "hasOwnProperty": 3}',
          '{"__proto__": []}',
        ]),
        rng,
      );
    case 'huge-numbers':
      return withBytes(kind, `{"success": ${rng.pick(ODD_NUMBERS)}, "mdMessage": ${rng.pick(ODD_NUMBERS)}}`, rng);
    case 'nulls':
      return withBytes(kind, rng.pick(['null', '{"success": null}', '{"success": true, "mdMessage": null}', '[null]', '{"progress": null, "mdMessage": null}']), rng);
    case 'empty':
      return withBytes(kind, rng.pick(['', ' ', '\n', '\t\r\n', '{}', '[]', '""', '0']), rng);
    case 'form':
      return { ...withBytes(kind, rng.pick(['success=true', 'success=true&mdMessage=ok', 'progress=true&mdMessage=x', 'decision=approve', '{"success":true}=']), rng), contentType: 'application/x-www-form-urlencoded' };
    case 'long-string':
      return withBytes(kind, JSON.stringify({ success: rng.chance(0.5), mdMessage: longString(rng, 60_000) }), rng);
    case 'oversized':
      return oversized(rng, '{"success":true,"mdMessage":"');
    case 'json-extensions':
      return withBytes(kind, rng.pick(['{success: true}', "{'success': true}", '{"success": true,}', '{"success": true} // ok', '/* c */ {"success": true}', '{"success": NaN}', '{"success": Infinity}', '{"success": true}{"success": false}', '{"success": tru}', '{"success": True}']), rng);
    default:
      return withBytes(kind, rng.pick(['{"success": true, "success": false}', '{"success": false, "success": true}', '{"mdMessage": "a", "mdMessage": 1, "success": true}', '{"progress": true, "progress": false, "mdMessage": "x"}']), rng);
  }
}

/** What a callback body means under SPEC §3, decided without the relay's code: the oracle of the callback fuzz. */
export type CallbackMeaning =
  | { kind: 'decision'; success: boolean; message: string | null }
  | { kind: 'progress'; message: string }
  | { kind: 'invalid' }
  | { kind: 'too-large' };

export function callbackMeaning(body: FuzzBody): CallbackMeaning {
  if (body.bytes.length > BODY_LIMIT || Number(body.contentLength ?? '0') > BODY_LIMIT) return { kind: 'too-large' };
  const read = readJsonBody(body);
  if (!read.ok) return { kind: read.status === 413 ? 'too-large' : 'invalid' };
  const value = read.value;
  if (!isRecord(value)) return { kind: 'invalid' };
  const md = Object.hasOwn(value, 'mdMessage') ? value.mdMessage : undefined;
  // In code points, as zod counts a string's length: 🚀 is one character, not two.
  const okMessage = typeof md === 'string' && [...md].length <= MESSAGE_LIMIT;
  // SPEC §3: a decision or a progress report, never both: a body with both keys is neither.
  if (Object.hasOwn(value, 'success') && Object.hasOwn(value, 'progress')) return { kind: 'invalid' };
  const success = Object.hasOwn(value, 'success') ? value.success : undefined;
  if (typeof success === 'boolean' && (md === undefined || okMessage)) return { kind: 'decision', success, message: typeof md === 'string' ? md : null };
  if (Object.hasOwn(value, 'progress') && value.progress === true && okMessage) return { kind: 'progress', message: md };
  return { kind: 'invalid' };
}
