/**
 * Seeded randomness for the fuzz tests: the PRNG, the per-case seeds, and random text and JSON
 * values. Runs in Node, in workerd (the relay tests) and as plain Node in a worker thread (the
 * loader fuzz), so: no imports at all, and erasable TypeScript only. Every case is rebuilt from
 * (seed, index) alone, so a failure printed as `seed=… case=…` can be replayed one case at a time.
 */

/** sfc32: small, fast, and the same sequence on every platform for a seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  /** Picks by weight: `[[weight, value], …]`. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((sum, [w]) => sum + w, 0);
    let at = this.next() * total;
    for (const [w, value] of items) {
      at -= w;
      if (at < 0) return value;
    }
    return (items.at(-1) as readonly [number, T])[1];
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }

  bytes(n: number): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** A 32-bit seed from any mix of strings and numbers (FNV-1a, then a murmur finalizer). */
export function hashSeed(...parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = `${String(part)}\u0000`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The generator of one case: independent of every other case, so any case replays alone. */
export function caseRng(seed: number, label: string, index: number): Rng {
  return new Rng(hashSeed(seed, label, index));
}

/** The run's seed: `HOOKGATE_FUZZ_SEED` when set (to replay a failure), else a fixed default. */
export function fuzzSeed(fromEnv: string | undefined, fallback: number): number {
  if (fromEnv === undefined || fromEnv === '') return fallback;
  const n = Number(fromEnv);
  return Number.isInteger(n) ? n >>> 0 : hashSeed(fromEnv);
}

const ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
const UNICODE_BITS = [
  'é', 'ß', 'İ', 'ﬀ', 'Ω', '√', '€', '中文', '日本語', 'العربية', 'עברית', '🚀', '👩‍👩‍👧', '🏳️‍🌈', '\u0301', '\u200b', '\u200d',
  '\u202e', '\u2028', '\u2029', '\ufeff', '\ufffd', '\uffff', '\ud800', '\udfff', '\ud83d', '\u0000', '\u0007', '\u001b', '\u007f',
  '\u0085', '\u00a0', '\t', '\r', '\n', '\\', '"', "'", '`', '<', '>', '&', '%', '{{', '}}', '$', '#', ':', '- ', '*', '!',
];

/** A short string of printable ASCII. */
export function asciiString(rng: Rng, max = 24): string {
  let out = '';
  for (let n = rng.range(0, max); n > 0; n--) out += ASCII[rng.int(ASCII.length)];
  return out;
}

/** A string mixing ASCII with odd Unicode: combining marks, RTL overrides, lone surrogates, NUL, line separators. */
export function unicodeString(rng: Rng, max = 16): string {
  let out = '';
  for (let n = rng.range(1, max); n > 0; n--) out += rng.chance(0.5) ? rng.pick(UNICODE_BITS) : (ASCII[rng.int(ASCII.length)] ?? '');
  return out;
}

/** A long string (1 KiB – `max` characters), repetitive or random. */
export function longString(rng: Rng, max = 100_000): string {
  const length = rng.range(1024, max);
  if (rng.chance(0.5)) return rng.pick(['x', 'a', '9', '\u00e9', '🚀', ' ', '{{']).repeat(length).slice(0, length);
  let out = '';
  while (out.length < length) out += asciiString(rng, 64);
  return out.slice(0, length);
}

/** Random bytes read as text the three ways a file can be read: UTF-8 with replacement characters, Latin-1, or raw code units. */
export function bytesAsText(rng: Rng, n: number): string {
  const bytes = rng.bytes(n);
  switch (rng.int(3)) {
    case 0:
      return new TextDecoder('utf-8').decode(bytes);
    case 1:
      return String.fromCharCode(...bytes);
    default:
      return Array.from({ length: n }, () => String.fromCharCode(rng.int(0x10000))).join('');
  }
}

/** Byte sequences that are not UTF-8: lone continuation bytes, overlong forms, surrogates, truncated sequences. */
export const INVALID_UTF8: readonly (readonly number[])[] = [
  [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xff], [0xfe], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3], [0xf8, 0x88, 0x80, 0x80, 0x80],
];

/** Text numbers JSON and YAML read differently or not at all well. */
export const ODD_NUMBERS: readonly string[] = [
  '0', '-0', '1', '-1', '42', '3.5', '-273.15', '1e309', '-1e309', '1e-400', '1E400', '9007199254740993',
  '123456789012345678901234567890', '-123456789012345678901234567890', '0.1e1', '1.7976931348623157e308', '5e-324',
];

/** A random JSON value, `depth` levels deep at most, with odd numbers, prototype keys and long strings. */
export function randomJsonText(rng: Rng, depth = 3): string {
  const kind = depth <= 0 ? rng.int(5) : rng.int(8);
  switch (kind) {
    case 0:
      return 'null';
    case 1:
      return rng.pick(['true', 'false']);
    case 2:
      return rng.pick(ODD_NUMBERS);
    case 3:
      return JSON.stringify(rng.chance(0.9) ? unicodeString(rng) : longString(rng, 20_000));
    case 4:
      return JSON.stringify(asciiString(rng));
    case 5:
    case 6: {
      const keys = ['success', 'progress', 'mdMessage', '__proto__', 'constructor', 'prototype', 'toString', '', 'runId', 'gateIds'];
      const fields = Array.from({ length: rng.range(0, 4) }, () => `${JSON.stringify(rng.chance(0.7) ? rng.pick(keys) : asciiString(rng, 8))}:${randomJsonText(rng, depth - 1)}`);
      return `{${fields.join(',')}}`;
    }
    default:
      return `[${Array.from({ length: rng.range(0, 4) }, () => randomJsonText(rng, depth - 1)).join(',')}]`;
  }
}

/** `[[[…]]]` or `{"a":{"a":…}}`, `depth` levels. */
export function deepJsonText(rng: Rng, depth: number): string {
  return rng.chance(0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Whether a parsed value is a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
