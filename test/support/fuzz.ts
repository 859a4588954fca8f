/**
 * Seeded randomness and input mutators for the fuzz tests. Runs in Node, in workerd (the relay
 * tests) and as plain Node in a worker thread (the loader fuzz), so: no Node-only imports, and
 * erasable TypeScript only. Every case is rebuilt from (seed, index) alone, so a failure
 * printed as `seed=… case=…` can be replayed one case at a time.
 */
import { isMap, isScalar, isSeq, parseDocument, Pair, Scalar, stringify } from 'yaml';
import type { Document } from 'yaml';

// ---------------------------------------------------------------- randomness

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

// ---------------------------------------------------------------- random text

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

// ---------------------------------------------------------------- deployment-file mutations

export interface SeedFile {
  name: string;
  text: string;
}

/** How each case of the loader fuzz was made, for counting and for replaying. */
export const TEXT_KINDS = [
  'delete-lines', 'duplicate-lines', 'swap-lines', 'shuffle-lines', 'reindent', 'truncate', 'random-bytes', 'invalid-utf8',
  'control-chars', 'bom', 'crlf', 'tabs', 'multi-document', 'template-garbage',
] as const;
export const STRUCTURE_KINDS = [
  'scalar-swap', 'key-swap', 'collection-swap', 'duplicate-key', 'anchor-alias', 'alias-bomb', 'many-aliases', 'tags',
  'merge-key', 'proto-keys', 'deep-nesting',
] as const;
export type MutationKind = (typeof TEXT_KINDS)[number] | (typeof STRUCTURE_KINDS)[number];

// Deep nesting costs 100–900 ms a case (yaml's recursive parser overflows and recovers) and a
// thousand aliases 20–40 ms, against 2–5 ms for the rest: both are rarer, to keep the run short.
const KIND_WEIGHTS: readonly (readonly [number, MutationKind])[] = [
  ...TEXT_KINDS.map((k) => [1, k] as const),
  ...STRUCTURE_KINDS.filter((k) => k !== 'deep-nesting' && k !== 'many-aliases').map((k) => [1.2, k] as const),
  [0.15, 'many-aliases'],
  [0.06, 'deep-nesting'],
];

type Raw = string | ((indent: number) => string);

// Seeds parsed once: cloning a document costs a fraction of parsing it again.
const parsedSeeds = new Map<string, Document>();

/** A place in a parsed document where a node sits, and how to put another one there. */
interface Slot {
  node: unknown;
  role: 'root' | 'key' | 'value' | 'item';
  set(node: unknown): void;
}

function slotsOf(doc: Document): Slot[] {
  const out: Slot[] = [];
  const walk = (node: unknown, role: Slot['role'], set: (n: unknown) => void): void => {
    out.push({ node, role, set });
    if (isMap(node)) {
      for (const pair of node.items) {
        walk(pair.key, 'key', (n) => (pair.key = n));
        walk(pair.value, 'value', (n) => (pair.value = n));
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, 'item', (n) => (node.items[i] = n)));
    }
  };
  walk(doc.contents, 'root', (n) => (doc.contents = n as typeof doc.contents));
  return out;
}

/**
 * Edits the parsed document, then prints it with each placeholder swapped for raw YAML text:
 * raw text can be anything (`*alias`, `!!tag x`, `[[[…`), which yaml's own printer would refuse or quote.
 */
function structural(rng: Rng, text: string, edit: (doc: Document, slots: Slot[], raw: (text: Raw) => Scalar) => void): string | undefined {
  const doc = parsedSeeds.get(text)?.clone() ?? parseDocument(text, { merge: true, uniqueKeys: false });
  if (doc.errors.length > 0 || doc.contents === null) return undefined;
  const raws: Raw[] = [];
  const tag = rng.int(1e9);
  const raw = (value: Raw): Scalar => {
    raws.push(value);
    return new Scalar(`FZPH${tag}X${raws.length - 1}Y`);
  };
  edit(doc, slotsOf(doc), raw);
  let out: string;
  try {
    out = doc.toString({ lineWidth: 0, verifyAliasOrder: false });
  } catch {
    return undefined;
  }
  return out.replace(new RegExp(`FZPH${tag}X(\\d+)Y`, 'g'), (match, i: string, offset: number) => {
    const value = raws[Number(i)];
    if (value === undefined) return match;
    if (typeof value === 'string') return value;
    const lineStart = out.lastIndexOf('\n', offset) + 1;
    return value(out.slice(lineStart).search(/\S/));
  });
}

function valueSlots(slots: Slot[]): Slot[] {
  return slots.filter((s) => s.role === 'value' || s.role === 'item');
}

function scalarReplacement(rng: Rng): string {
  switch (rng.int(9)) {
    case 0:
      return rng.pick([...ODD_NUMBERS, '.inf', '-.Inf', '.nan', '0x7FFFFFFF', '0o777', '0b101', '+12', '1_000', '00042', '-5', '101']);
    case 1:
      return rng.pick(['null', '~', 'Null', 'NULL', '']);
    case 2:
      return rng.pick(['true', 'false', 'True', 'FALSE', 'yes', 'no', 'on', 'off', 'y', 'n']);
    case 3:
      return JSON.stringify(longString(rng, rng.chance(0.1) ? 100_000 : 8_000));
    case 4:
      return JSON.stringify(unicodeString(rng));
    case 5:
      return rng.pick(['🚀', 'ß', 'İ', '\u202eevil', 'Ω≈ç√', '中文', 'a\u0301']);
    case 6:
      return rng.pick(['{}', '[]', '""', "''", '[[]]', '[~]', '{a: }', '[null, 1, "x"]', '{ "": "" }', '[a, b, c]', '{name: x}', '{duration: -1, unit: hours}']);
    case 7:
      return rng.pick(['2001-12-14', '2001-12-14t21:59:43.10-05:00', '12:30:45', '2002-12-14 21:59:43.10 -5']);
    default:
      return rng.pick(['!!binary aGVsbG8=', '!!str 1', '!!int "1"', '!!float x', '"{{armory.callbackUri}}"', '"{{secrets.nope}}"', '"\\0\\x07\\u2028"']);
  }
}

const KEY_REPLACEMENTS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '""', '~', 'null', '1', '1.5', 'true', '-',
  '"a b"', '"\\0"', '"\\u202e"', '[a, b]', '{a: 1}', '!!binary aGk=', '🚀', 'k'.repeat(5000), 'uriTemplate', 'runWebhook',
  'analysis', 'manifests', 'targets', 'Targets', 'webhook', 'dependsOn',
];

const TAGS = [
  '!!binary', '!!js/function', '!!js/undefined', '!!js/regexp', '!foo', '!', '!!set', '!!omap', '!!pairs', '!!timestamp', '!!int',
  '!!float', '!!bool', '!!null', '!!str', '!!map', '!!seq', '!<tag:example.com,2000:app/foo>', '!!python/object/apply:os.system',
  '!e!foo', '!!merge', '!!value',
];

function flowText(node: unknown): string {
  try {
    const value: unknown = isScalar(node) ? node.value : (node as { toJSON(): unknown }).toJSON();
    return JSON.stringify(value) ?? 'null';
  } catch {
    return 'null';
  }
}

function billionLaughs(rng: Rng): string {
  const levels = rng.range(3, 12);
  const width = rng.range(2, 10);
  const tag = rng.int(1e6);
  const parts = [`&lol${tag}x0 [${Array(width).fill('"lol"').join(', ')}]`];
  for (let i = 1; i <= levels; i++) parts.push(`&lol${tag}x${i} [${Array(width).fill(`*lol${tag}x${i - 1}`).join(', ')}]`);
  return `[${parts.join(', ')}]`;
}

function deepNesting(rng: Rng): Raw {
  const depth = rng.pick([1000, 2000, 5000]);
  switch (rng.int(4)) {
    case 0:
      return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    case 1:
      return `${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`;
    case 2: {
      const opens = Array.from({ length: depth }, () => (rng.chance(0.5) ? '[' : '{k: '));
      const closes = opens.map((o) => (o === '[' ? ']' : '}')).reverse();
      // Sometimes left unclosed.
      return opens.join('') + (rng.chance(0.2) ? '' : `x${closes.join('')}`);
    }
    default:
      // Block sequences nested on one line: `- - - - x`.
      return (indent: number) => `\n${' '.repeat(Math.max(0, indent) + 2)}${'- '.repeat(Math.min(depth, 3000))}x`;
  }
}

function lineEdit(text: string, edit: (lines: string[]) => void): string {
  const lines = text.split('\n');
  edit(lines);
  return lines.join('\n');
}

function insertAt(rng: Rng, text: string, insert: string): string {
  const at = rng.int(text.length + 1);
  return text.slice(0, at) + insert + text.slice(at);
}

const TEMPLATE_GARBAGE = [
  '{{', '}}', '{{}}', '{{ }}', '{{{x}}}', '{{#each x}}', '{{/each}}', '{{secrets.}}', '{{ secrets.nope }}', '{{armory.callbackUri',
  '{{a b}}', '{{context.}}', '{{{{{{', '{{ armory.callbackUri }}{{', '}}{{', '{{\n}}', '{{context.__proto__}}', '{{secrets.constructor}}',
  '{{secrets.toString}}', '{{context.hasOwnProperty}}', '{{armory}}', '{{ARMORY.CALLBACKURI}}', '{{hookgate.approvalUrl}}',
  '{{github.sha}}{{github.sha}}', '{{ context.team }}', '{{\u0000}}', '{{🚀}}', '{{%}}', '{{..}}', '{{.}}',
];

function templateGarbage(rng: Rng): string {
  if (rng.chance(0.1)) return '{{'.repeat(rng.range(100, 3000));
  return Array.from({ length: rng.range(1, 3) }, () => rng.pick(TEMPLATE_GARBAGE)).join(rng.pick(['', ' ', 'x', '/']));
}

function anchorName(rng: Rng): string {
  return `fz${rng.int(1e6)}`;
}

/** Applies one mutation; undefined when it does not apply to this text (the caller falls back to another). */
export function mutate(rng: Rng, text: string, kind: MutationKind): string | undefined {
  switch (kind) {
    case 'delete-lines':
      return lineEdit(text, (lines) => {
        const at = rng.int(lines.length);
        lines.splice(at, rng.range(1, 3));
      });
    case 'duplicate-lines':
      return lineEdit(text, (lines) => {
        const at = rng.int(lines.length);
        const block = lines.slice(at, at + rng.range(1, 4));
        lines.splice(rng.chance(0.5) ? at : rng.int(lines.length + 1), 0, ...block);
      });
    case 'swap-lines':
      return lineEdit(text, (lines) => {
        const i = rng.int(lines.length);
        const j = rng.int(lines.length);
        [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
      });
    case 'shuffle-lines':
      return lineEdit(text, (lines) => {
        if (rng.chance(0.05)) {
          rng.shuffle(lines);
          return;
        }
        const at = rng.int(lines.length);
        const block = lines.splice(at, rng.range(2, 8));
        lines.splice(at, 0, ...rng.shuffle(block));
      });
    case 'reindent':
      return lineEdit(text, (lines) => {
        if (rng.chance(0.15)) {
          // Scaling all indentation keeps the file valid: the loader must read it the same.
          const factor = rng.range(2, 4);
          lines.forEach((l, i) => (lines[i] = ' '.repeat((l.length - l.trimStart().length) * factor) + l.trimStart()));
          return;
        }
        const at = rng.int(lines.length);
        for (let i = at; i < Math.min(lines.length, at + rng.range(1, 5)); i++) {
          const line = lines[i] ?? '';
          const indent = line.length - line.trimStart().length;
          lines[i] = ' '.repeat(Math.max(0, rng.chance(0.2) ? 0 : indent + rng.pick([-4, -2, -1, 1, 2, 3, 8]))) + line.trimStart();
        }
      });
    case 'truncate':
      return text.slice(0, rng.int(text.length));
    case 'random-bytes': {
      const insert = bytesAsText(rng, rng.range(1, 48));
      if (rng.chance(0.3)) {
        const at = rng.int(text.length);
        return text.slice(0, at) + insert + text.slice(at + rng.range(1, 40));
      }
      return insertAt(rng, text, insert);
    }
    case 'invalid-utf8': {
      const bytes = new TextEncoder().encode(text);
      const out: number[] = Array.from(bytes);
      for (let n = rng.range(1, 6); n > 0; n--) out.splice(rng.int(out.length + 1), 0, ...rng.pick(INVALID_UTF8));
      // As readFile(path, 'utf8') reads it: every bad sequence becomes U+FFFD.
      return new TextDecoder('utf-8').decode(new Uint8Array(out));
    }
    case 'control-chars': {
      let out = text;
      const chars = ['\u0000', '\u0001', '\u0007', '\b', '\v', '\f', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029', '\ufeff', '\u200b', '\r', '\ud800'];
      for (let n = rng.range(1, 5); n > 0; n--) out = insertAt(rng, out, rng.pick(chars));
      return out;
    }
    case 'bom':
      switch (rng.int(3)) {
        case 0:
          return `\ufeff${text}`;
        case 1:
          return `\ufeff\ufeff${text}`;
        default:
          return lineEdit(text, (lines) => {
            const at = rng.int(lines.length);
            lines[at] = `\ufeff${lines[at] ?? ''}`;
          });
      }
    case 'crlf':
      switch (rng.int(3)) {
        case 0:
          return text.replace(/\n/g, '\r\n');
        case 1:
          return text.replace(/\n/g, () => (rng.chance(0.5) ? '\r\n' : '\n'));
        default:
          return text.replace(/\n/g, '\r');
      }
    case 'tabs':
      return lineEdit(text, (lines) => {
        const all = rng.chance(0.3);
        lines.forEach((l, i) => {
          if (!all && !rng.chance(0.1)) return;
          lines[i] = rng.chance(0.5) ? l.replace(/^( {2})+/, (m) => '\t'.repeat(m.length / 2)) : l.replace(/: /, ':\t');
        });
      });
    case 'multi-document':
      switch (rng.int(6)) {
        case 0:
          return `${text}\n---\n${text}`;
        case 1:
          return `---\n${text}`;
        case 2:
          return `${text}\n...\n${asciiString(rng)}`;
        case 3:
          return `%YAML 1.2\n---\n${text}`;
        case 4:
          return `%TAG ! tag:example.com,2000:\n%YAML 1.1\n---\n${text}\n---\n`;
        default:
          return lineEdit(text, (lines) => lines.splice(rng.int(lines.length), 0, rng.pick(['---', '...', '--- |', '--- >', '--- !foo', '%YAML 1.2'])));
      }
    case 'template-garbage': {
      const garbage = templateGarbage(rng);
      const templates = [...text.matchAll(/\{\{[^}\n]*\}\}/g)];
      if (templates.length > 0 && rng.chance(0.8)) {
        const m = rng.pick(templates);
        return text.slice(0, m.index) + garbage + text.slice(m.index + m[0].length);
      }
      return structural(rng, text, (_doc, slots, raw) => {
        const scalars = valueSlots(slots).filter((s) => isScalar(s.node));
        if (scalars.length === 0) return;
        const slot = rng.pick(scalars);
        slot.set(raw(JSON.stringify(`${isScalar(slot.node) ? String(slot.node.value) : ''}${garbage}`)));
      });
    }
    case 'scalar-swap':
      return structural(rng, text, (_doc, slots, raw) => {
        const scalars = valueSlots(slots).filter((s) => isScalar(s.node));
        for (let n = rng.range(1, 3); n > 0 && scalars.length > 0; n--) rng.pick(scalars).set(raw(scalarReplacement(rng)));
      });
    case 'key-swap':
      return structural(rng, text, (_doc, slots, raw) => {
        const keys = slots.filter((s) => s.role === 'key');
        if (keys.length > 0) rng.pick(keys).set(raw(`${rng.pick(KEY_REPLACEMENTS)} `));
      });
    case 'collection-swap':
      return structural(rng, text, (_doc, slots, raw) => {
        const collections = slots.filter((s) => isMap(s.node) || isSeq(s.node));
        if (collections.length === 0) return;
        const slot = rng.pick(collections);
        const json = flowText(slot.node);
        const choices = ['[]', '{}', '~', '42', '"a string"', `[${json}]`, `{wrapped: ${json}}`];
        if (isMap(slot.node)) choices.push(`[${slot.node.items.map((p) => `{${flowText(p.key)}: ${flowText(p.value)}}`).join(', ')}]`);
        if (isSeq(slot.node)) choices.push(`{${slot.node.items.map((item, i) => `${i}: ${flowText(item)}`).join(', ')}}`);
        slot.set(raw(rng.pick(choices)));
      });
    case 'duplicate-key':
      return structural(rng, text, (_doc, slots, raw) => {
        const maps = slots.flatMap((s) => (isMap(s.node) && s.node.items.length > 0 ? [s.node] : []));
        if (maps.length === 0) return;
        const map = rng.pick(maps);
        const pair = rng.pick(map.items);
        const copy = new Pair(isScalar(pair.key) ? pair.key.clone() : pair.key, rng.chance(0.5) ? raw(scalarReplacement(rng)) : pair.value);
        map.items.splice(rng.int(map.items.length + 1), 0, copy);
      });
    case 'anchor-alias':
      return structural(rng, text, (_doc, slots, raw) => {
        const anchorable = slots.filter((s) => s.role !== 'key' && (isMap(s.node) || isSeq(s.node) || isScalar(s.node)));
        if (anchorable.length === 0) return;
        const name = anchorName(rng);
        (rng.pick(anchorable).node as { anchor?: string }).anchor = name;
        for (let n = rng.range(1, 4); n > 0; n--) {
          const target = rng.pick(slots);
          const source = rng.chance(0.1) ? 'nope' : name;
          target.set(raw(target.role === 'key' ? `*${source} ` : `*${source}`));
        }
      });
    case 'alias-bomb':
      return structural(rng, text, (_doc, slots, raw) => {
        const places = valueSlots(slots);
        if (places.length > 0) rng.pick(places).set(raw(billionLaughs(rng)));
      });
    case 'many-aliases':
      return structural(rng, text, (_doc, slots, raw) => {
        const places = valueSlots(slots);
        if (places.length === 0) return;
        const name = anchorName(rng);
        const count = rng.pick([900, 1000, 1001, 1500, 3000]);
        rng.pick(places).set(raw(`[&${name} ${flowText(rng.pick(places).node)}, ${Array(count).fill(`*${name}`).join(', ')}]`));
      });
    case 'tags':
      return structural(rng, text, (_doc, slots, raw) => {
        const places = slots.filter((s) => s.role !== 'root');
        for (let n = rng.range(1, 2); n > 0 && places.length > 0; n--) {
          const slot = rng.pick(places);
          slot.set(raw(`${rng.pick(TAGS)} ${flowText(slot.node)}${slot.role === 'key' ? ' ' : ''}`));
        }
      });
    case 'merge-key':
      return structural(rng, text, (_doc, slots, raw) => {
        const maps = slots.filter((s) => isMap(s.node));
        if (maps.length === 0) return;
        const into = rng.pick(maps).node as { items: Pair[] };
        const source = rng.pick(slots.filter((s) => s.role !== 'key'));
        const name = anchorName(rng);
        (source.node as { anchor?: string }).anchor = name;
        const other = rng.pick(maps);
        const otherName = anchorName(rng);
        (other.node as { anchor?: string }).anchor = otherName;
        const value = rng.pick([`*${name}`, `[*${name}, *${otherName}]`, '5', '~', '{extra: 1}', '*nope', `[*${name}, 5]`, '[]', `!!map *${name}`]);
        into.items.splice(rng.int(into.items.length + 1), 0, new Pair(raw('<<'), raw(value)));
      });
    case 'proto-keys':
      return structural(rng, text, (_doc, slots, raw) => {
        const maps = slots.filter((s) => isMap(s.node));
        if (maps.length === 0) return;
        const map = rng.pick(maps).node as { items: Pair[] };
        const key = rng.pick(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', '"__proto__"', "'constructor'"]);
        if (rng.chance(0.4) && map.items.length > 0) {
          rng.pick(map.items).key = raw(key);
        } else {
          const value = rng.pick(['{polluted: yes}', '[]', '1', '~', '{strategy: x}', flowText(rng.pick(slots).node)]);
          map.items.splice(rng.int(map.items.length + 1), 0, new Pair(raw(key), raw(value)));
        }
      });
    case 'deep-nesting':
      return structural(rng, text, (_doc, slots, raw) => {
        const places = valueSlots(slots);
        if (places.length > 0) rng.pick(places).set(raw(deepNesting(rng)));
      });
  }
}

export interface LoaderCase {
  index: number;
  seedName: string;
  kinds: MutationKind[];
  text: string;
}

/** Case `index` of the run `seed`: a seed file with one mutation, or two to four stacked (a fifth of the cases). */
export function loaderCase(seeds: readonly SeedFile[], seed: number, index: number): LoaderCase {
  const rng = caseRng(seed, 'deployment-file', index);
  // Mostly the small seeds cut from the full ones (see deriveSeeds); a full file one time in eight.
  const full = seeds.filter((s) => !s.name.includes('#'));
  const cut = seeds.filter((s) => s.name.includes('#'));
  const source = rng.pick(cut.length === 0 || (full.length > 0 && rng.chance(0.125)) ? full : cut);
  if (!parsedSeeds.has(source.text)) parsedSeeds.set(source.text, parseDocument(source.text, { merge: true, uniqueKeys: false }));
  const count = rng.chance(0.2) ? rng.range(2, 4) : 1;
  const kinds: MutationKind[] = [];
  let text = source.text;
  for (let i = 0; i < count; i++) {
    let kind = rng.weighted(KIND_WEIGHTS);
    // Stacking deep nesting only multiplies its cost.
    if (count > 1 && kind === 'deep-nesting') kind = 'scalar-swap';
    let next = mutate(rng, text, kind);
    if (next === undefined) {
      // A structure mutation needs text yaml can parse: after a text mutation broke it, edit the text instead.
      kind = rng.pick(TEXT_KINDS);
      next = mutate(rng, text, kind) ?? text;
    }
    kinds.push(kind);
    text = next;
  }
  return { index, seedName: source.name, kinds, text };
}

/**
 * Smaller valid seeds cut from a full one: one target with its strategy and the webhooks it uses.
 * yaml parsing costs about 1 ms per KB here, and 10,000 cases of 4 KB files would take a minute.
 */
export function deriveSeeds(seed: SeedFile): SeedFile[] {
  const root: unknown = parseDocument(seed.text).toJS();
  if (!isRecord(root) || !isRecord(root.targets)) return [];
  const top = root;
  const targets = root.targets;
  const strategies = isRecord(root.strategies) ? root.strategies : {};
  const webhooks = Array.isArray(root.webhooks) ? root.webhooks : [];
  return Object.entries(targets).map(([name, target]) => {
    const strategyName = isRecord(target) && typeof target.strategy === 'string' ? target.strategy : undefined;
    const strategy = strategyName === undefined ? undefined : strategies[strategyName];
    const used = new Set([...JSON.stringify([target, strategy ?? null]).matchAll(/"runWebhook":\{"name":"([^"]+)"/g)].map((m) => m[1]));
    const trimmed = isRecord(target) && isRecord(target.constraints) ? { ...target, constraints: { ...target.constraints, dependsOn: undefined } } : target;
    const file: Record<string, unknown> = {};
    for (const key of ['version', 'application', 'context', 'commands']) if (top[key] !== undefined) file[key] = top[key];
    file.targets = { [name]: trimmed };
    if (strategyName !== undefined && strategy !== undefined) file.strategies = { [strategyName]: strategy };
    const hooks = webhooks.filter((w) => isRecord(w) && used.has(String(w.name)));
    if (hooks.length > 0) file.webhooks = hooks;
    return { name: `${seed.name}#${name}`, text: stringify(file, { lineWidth: 0 }) };
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------- running the loader fuzz

/** The loader's options, structurally: fuzz.ts does not import the action (it also runs in workerd). */
export interface LoaderOptions {
  file: string;
  text: string;
  secretNames: ReadonlySet<string>;
  inputContext: Record<string, string>;
  defaultApplication: string;
  readFile?: (path: string) => string;
}
export type LoadFn = (options: LoaderOptions) => unknown;

export const FUZZ_FILE = 'deploy.yml';

const namesOfSeeds = new WeakMap<readonly SeedFile[], { secretNames: ReadonlySet<string>; inputContext: Record<string, string> }>();

/** Options every case is loaded with: every secret and context key the seeds use is known, so seeds are valid. */
export function loaderOptions(seeds: readonly SeedFile[], text: string): LoaderOptions {
  let names = namesOfSeeds.get(seeds);
  if (names === undefined) {
    const all = seeds.map((s) => s.text).join('\n');
    names = {
      secretNames: new Set([...all.matchAll(/secrets\.([\w-]+)/g)].map((m) => m[1] ?? '')),
      inputContext: Object.fromEntries([...all.matchAll(/context\.([\w-]+)/g)].map((m) => [m[1] ?? '', 'x'])),
    };
    namesOfSeeds.set(seeds, names);
  }
  return {
    file: FUZZ_FILE,
    text,
    secretNames: names.secretNames,
    inputContext: { ...names.inputContext },
    defaultApplication: 'fuzz-app',
    readFile: (path) => {
      if (path.endsWith('.json')) return '{"callbackUri": "{{armory.callbackUri}}"}';
      throw new Error(`ENOENT: no such file '${path}'`);
    },
  };
}

/** What is wrong with a loader result for this text; null when it keeps the contract. */
export function checkLoadResult(result: unknown, text: string): string | null {
  if (!isRecord(result) || typeof result.ok !== 'boolean') return `not a result: ${describeValue(result)}`;
  if (result.ok) {
    const plan = result.plan;
    if (!isRecord(plan) || !Array.isArray(plan.targets) || plan.targets.length === 0 || !isRecord(plan.webhooks)) return 'ok without a plan of at least one target';
    try {
      JSON.stringify(plan);
    } catch (error) {
      return `the plan cannot be serialized: ${String(error)}`;
    }
    return null;
  }
  const errors = result.errors;
  if (!Array.isArray(errors) || errors.length === 0) return 'not ok, but no errors';
  // Lines as yaml and editors count them: a lone CR is no line break to yaml.
  const lines = text.split('\n');
  const widest = Math.max(...lines.map((l) => l.length));
  for (const e of errors as unknown[]) {
    if (!isRecord(e)) return `an error that is not an object: ${describeValue(e)}`;
    const { file, line, col, path, message } = e;
    if (file !== FUZZ_FILE) return `error without the file: ${JSON.stringify(e)}`;
    if (typeof line !== 'number' || !Number.isInteger(line) || line < 1 || line > lines.length + 1) return `error line out of range (file has ${lines.length} lines): ${JSON.stringify(e)}`;
    if (typeof col !== 'number' || !Number.isInteger(col) || col < 1 || col > widest + 2) return `error column out of range (widest line ${widest}): ${JSON.stringify(e)}`;
    if (typeof path !== 'string') return `error without a path: ${JSON.stringify(e)}`;
    if (typeof message !== 'string' || message.trim() === '') return `error without a message: ${JSON.stringify(e)}`;
    if (/internal error/.test(message)) return `internal error: ${message}`;
    if (message.includes('[object Object]') && !text.includes('[object Object]')) return `message shows an object: ${message}`;
  }
  return null;
}

function describeValue(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}

export interface KindCount {
  total: number;
  valid: number;
  invalid: number;
}

export interface LoaderFailure {
  index: number;
  seedName: string;
  kinds: MutationKind[];
  problem: string;
  /** The start of the mutated text, JSON-escaped, and its length. */
  excerpt: string;
  length: number;
}

export interface LoaderFuzzSummary {
  total: number;
  valid: number;
  invalid: number;
  /** Every case counts under each mutation it applied, and under `stacked` when it applied more than one. */
  byKind: Record<string, KindCount>;
  failures: LoaderFailure[];
  failureCount: number;
  /** Lines the loader printed (console or process warnings): it must print nothing. */
  printed: string[];
  slowest: { index: number; kinds: MutationKind[]; ms: number; length: number }[];
  totalChars: number;
  elapsedMs: number;
  /** CPU time of the thread that ran the cases, when the runtime can tell (Node ≥ 23.9). */
  cpuMs: number | null;
}

export interface LoaderFuzzParams {
  seed: number;
  from: number;
  to: number;
  seeds: SeedFile[];
  /** progress[0] is set to the index of the case being loaded, for a stuck case to be named. */
  progress?: Int32Array;
}

/** Loads cases [from, to) and checks every result; never throws for a failing case, it is counted and kept. */
export function runLoaderCases(load: LoadFn, params: LoaderFuzzParams): LoaderFuzzSummary {
  const summary: LoaderFuzzSummary = {
    total: 0, valid: 0, invalid: 0, byKind: {}, failures: [], failureCount: 0, printed: [], slowest: [], totalChars: 0, elapsedMs: 0, cpuMs: null,
  };
  const cpu = (globalThis as { process?: { threadCpuUsage?: () => { user: number; system: number } } }).process?.threadCpuUsage;
  const cpuStart = cpu?.();
  const restore = capturePrinting((line) => {
    if (summary.printed.length < 20) summary.printed.push(line);
  });
  const started = performance.now();
  try {
    for (let index = params.from; index < params.to; index++) {
      if (params.progress) Atomics.store(params.progress, 0, index);
      const c = loaderCase(params.seeds, params.seed, index);
      const t0 = performance.now();
      let problem: string | null;
      let ok = false;
      try {
        const result = load(loaderOptions(params.seeds, c.text));
        problem = checkLoadResult(result, c.text);
        ok = isRecord(result) && result.ok === true;
      } catch (error) {
        problem = `threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
      }
      const ms = performance.now() - t0;
      const polluted = Object.keys(Object.prototype);
      if (polluted.length > 0) problem ??= `Object.prototype was polluted with ${polluted.join(', ')}`;
      summary.total++;
      summary.totalChars += c.text.length;
      if (ok) summary.valid++;
      else summary.invalid++;
      const kinds = c.kinds.length > 1 ? [...new Set(c.kinds), 'stacked'] : c.kinds;
      for (const kind of kinds) {
        const count = (summary.byKind[kind] ??= { total: 0, valid: 0, invalid: 0 });
        count.total++;
        if (ok) count.valid++;
        else count.invalid++;
      }
      summary.slowest.push({ index, kinds: c.kinds, ms, length: c.text.length });
      summary.slowest.sort((a, b) => b.ms - a.ms);
      summary.slowest.length = Math.min(summary.slowest.length, 5);
      if (problem !== null) {
        summary.failureCount++;
        if (summary.failures.length < 20) {
          summary.failures.push({ index, seedName: c.seedName, kinds: c.kinds, problem, excerpt: JSON.stringify(c.text.slice(0, 400)), length: c.text.length });
        }
      }
    }
  } finally {
    restore();
  }
  summary.elapsedMs = performance.now() - started;
  const cpuEnd = cpu?.();
  if (cpuStart && cpuEnd) summary.cpuMs = (cpuEnd.user + cpuEnd.system - cpuStart.user - cpuStart.system) / 1000;
  return summary;
}

/** Counts what reaches the console or process warnings (yaml warns through process.emitWarning) until restored. */
function capturePrinting(onLine: (line: string) => void): () => void {
  const target = console as unknown as Record<string, unknown>;
  const methods = ['log', 'info', 'warn', 'error', 'debug'];
  const saved = methods.map((m) => target[m]);
  for (const m of methods) target[m] = (...args: unknown[]) => onLine(`console.${m}: ${args.map(String).join(' ')}`);
  const proc = (globalThis as { process?: { emitWarning?: unknown } }).process;
  const savedWarning = proc?.emitWarning;
  if (proc) proc.emitWarning = (warning: unknown) => onLine(`process warning: ${String(warning)}`);
  return () => {
    methods.forEach((m, i) => (target[m] = saved[i]));
    if (proc) proc.emitWarning = savedWarning;
  };
}

// ---------------------------------------------------------------- relay requests

/** Largest body the relay reads (SPEC §3), repeated here so the oracle does not borrow the relay's constant. */
export const BODY_LIMIT = 64 * 1024;
/** Longest callback mdMessage (shared/protocol.ts MAX_MESSAGE_CHARS), likewise. */
export const MESSAGE_LIMIT = 16 * 1024;

/** A request body as the fuzz sends it: bytes, optionally streamed, with the headers that describe it. */
export interface FuzzBody {
  label: string;
  bytes: Uint8Array<ArrayBuffer>;
  /** Sent as a ReadableStream in chunks, so no Content-Length reaches the Worker. */
  stream: boolean;
  /** A Content-Length header to send as is (true, or a lie); none when undefined. */
  contentLength?: string;
  /** undefined: no Content-Type header. */
  contentType?: string;
}

export const CONTENT_TYPES: readonly (string | undefined)[] = [
  undefined, 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz', 'application/json; charset=latin1', 'application/xml', '*/*', 'APPLICATION/JSON', 'x',
];

const utf8 = new TextEncoder();

/** UTF-8 bytes with a plain ArrayBuffer behind them, as a request body needs. */
function encode(text: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(utf8.encode(text));
}

function withBytes(label: string, text: string | Uint8Array<ArrayBuffer>, rng: Rng): FuzzBody {
  return { label, bytes: typeof text === 'string' ? encode(text) : text, stream: rng.chance(0.05), contentType: rng.pick(CONTENT_TYPES) };
}

/** An oversized body (over 64 KiB): with its true Content-Length, with a small lying one, or streamed with none. */
function oversized(rng: Rng, prefix: string): FuzzBody {
  const size = BODY_LIMIT + rng.pick([1, 2, 100, 8192, 100_000]);
  const bytes = encode(`${prefix}${'x'.repeat(Math.max(0, size - prefix.length - 2))}"}`);
  switch (rng.int(3)) {
    case 0:
      return { label: 'oversized-true-length', bytes, stream: false, contentLength: String(bytes.length), contentType: 'application/json' };
    case 1:
      return { label: 'oversized-lying-length', bytes, stream: false, contentLength: rng.pick(['10', '0', '100', '65536']), contentType: 'application/json' };
    default:
      return { label: 'oversized-streamed', bytes, stream: true, contentType: 'application/json' };
  }
}

/**
 * A callback body: mostly malformed, sometimes a valid decision or progress report, sometimes a
 * near miss. `decisions` scales how often a valid decision comes: low keeps a gate pending longer,
 * so more invalid bodies meet a pending gate.
 */
export function callbackBody(rng: Rng, decisions = 1): FuzzBody {
  const message = (): string =>
    rng.weighted<string>([
      [6, asciiString(rng, 40)],
      [2, unicodeString(rng)],
      [1, 'm'.repeat(rng.pick([MESSAGE_LIMIT - 1, MESSAGE_LIMIT, MESSAGE_LIMIT + 1]))],
      [1, '🚀'.repeat(rng.pick([MESSAGE_LIMIT / 2, MESSAGE_LIMIT / 2 + 1, MESSAGE_LIMIT, MESSAGE_LIMIT + 1]))],
    ]);
  const kind = rng.weighted<string>([
    [8 * decisions, 'valid-decision'], [5, 'valid-progress'], [10, 'near-miss'], [6, 'random-json'], [4, 'truncated-json'], [4, 'random-bytes'],
    [3, 'invalid-utf8'], [2, 'bom-json'], [2, 'deep-nesting'], [3, 'proto-keys'], [2, 'huge-numbers'], [2, 'nulls'], [2, 'empty'],
    [2, 'form'], [2, 'long-string'], [1, 'oversized'], [2, 'json-extensions'], [2, 'duplicate-keys'],
  ]);
  switch (kind) {
    case 'valid-decision': {
      const fields = [`"success": ${rng.pick(['true', 'false'])}`];
      if (rng.chance(0.7)) fields.push(`"mdMessage": ${JSON.stringify(message())}`);
      if (rng.chance(0.2)) fields.push(`"extra": ${randomJsonText(rng, 2)}`);
      return withBytes(kind, `{${rng.shuffle(fields).join(', ')}}`, rng);
    }
    case 'valid-progress':
      return withBytes(kind, JSON.stringify({ progress: true, mdMessage: message() }), rng);
    case 'near-miss': {
      // Each field swapped for a value of another type, dropped, or doubled up.
      const success = rng.pick(['"true"', '"false"', '1', '0', 'null', '[]', '{}', '"yes"', 'true', 'false', undefined]);
      const progress = rng.pick(['true', 'false', '"true"', '1', 'null', undefined, undefined]);
      const md = rng.pick([JSON.stringify(message()), '1', 'null', 'true', '[]', '{"x": 1}', undefined]);
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
      const text = JSON.stringify({ success: rng.chance(0.5), mdMessage: message() });
      return withBytes(kind, text.slice(0, rng.int(text.length)), rng);
    }
    case 'random-bytes':
      return withBytes(kind, rng.bytes(rng.range(0, 2048)), rng);
    case 'invalid-utf8': {
      const bytes = Array.from(utf8.encode(`{"success": true, "mdMessage": "${asciiString(rng, 20).replace(/["\\]/g, '')}"}`));
      bytes.splice(rng.range(1, bytes.length - 1), 0, ...rng.pick(INVALID_UTF8));
      return withBytes(kind, new Uint8Array(bytes), rng);
    }
    case 'bom-json':
      return withBytes(kind, `\ufeff{"success": ${rng.pick(['true', 'false'])}}`, rng);
    case 'deep-nesting': {
      const depth = rng.pick([100, 1000, 10_000, 30_000]);
      return withBytes(kind, rng.chance(0.5) ? deepJsonText(rng, depth) : `{"success": true, "mdMessage": ${deepJsonText(rng, depth)}}`, rng);
    }
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

/** The body as fetch's RequestInit wants it. */
export function requestBody(body: FuzzBody): BodyInit {
  if (!body.stream) return body.bytes;
  let at = 0;
  const bytes = body.bytes;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      const size = Math.max(1, Math.min(16_384, bytes.length - at));
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

/** Headers for a fuzz body: its Content-Type and any Content-Length it carries. */
export function bodyHeaders(body: FuzzBody): Record<string, string> {
  const headers: Record<string, string> = {};
  if (body.contentType !== undefined) headers['content-type'] = body.contentType;
  if (body.contentLength !== undefined) headers['content-length'] = body.contentLength;
  return headers;
}

/**
 * Methods beyond POST, as clients send them (fetch upper-cases only the standard ones). workerd's
 * fetch refuses methods it does not know (a TypeError before anything is sent): the tests skip those.
 */
export const OTHER_METHODS: readonly string[] = ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'patch', 'PROPFIND', 'MKCOL', 'SEARCH', 'QUERY', 'FOO', 'Post', 'TRACE', 'CONNECT'];

/** Whether fetch refused to send the request at all (an unknown or forbidden method, a header it cannot carry). */
export function clientRefused(error: unknown): boolean {
  return error instanceof TypeError;
}

/** Counts answers per endpoint and status, for the report. */
export class StatusTally {
  readonly counts = new Map<string, Map<number, number>>();

  add(endpoint: string, status: number): void {
    const byStatus = this.counts.get(endpoint) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.counts.set(endpoint, byStatus);
  }

  get total(): number {
    let n = 0;
    for (const byStatus of this.counts.values()) for (const c of byStatus.values()) n += c;
    return n;
  }

  byStatus(): Map<number, number> {
    const all = new Map<number, number>();
    for (const byStatus of this.counts.values()) for (const [s, c] of byStatus) all.set(s, (all.get(s) ?? 0) + c);
    return all;
  }

  format(title: string, elapsedMs: number): string {
    const line = (m: Map<number, number>): string => [...m].sort(([a], [b]) => a - b).map(([s, c]) => `${s}×${c}`).join(' ');
    return [
      `${title}: ${this.total} requests in ${(elapsedMs / 1000).toFixed(1)} s; by status: ${line(this.byStatus())}`,
      ...[...this.counts].sort(([a], [b]) => a.localeCompare(b)).map(([endpoint, m]) => `  ${endpoint.padEnd(34)} ${line(m)}`),
    ].join('\n');
  }
}

const STACK_TRACE = /\n\s+at \S|\bat \S+ \(|\.ts:\d+|\.js:\d+:\d+/;

/** What is wrong with a relay answer: a 5xx, a JSON error that is not `{error, message}`, a page without its headers, a stack trace. */
export async function answerProblem(res: Response, method: string, expect: 'json' | 'page' | 'either'): Promise<string | null> {
  const text = method.toUpperCase() === 'HEAD' ? '' : await res.text();
  if (res.status >= 500) return `status ${res.status}: ${text.slice(0, 300)}`;
  if (STACK_TRACE.test(text)) return `a stack trace in the body: ${text.slice(0, 300)}`;
  const type = res.headers.get('content-type') ?? '';
  const isPage = type === 'text/html; charset=utf-8';
  if (expect === 'page' && !isPage) return `expected an HTML page, got ${type || 'no content type'} (${res.status})`;
  if (expect === 'json' && isPage) return `expected JSON, got an HTML page (${res.status})`;
  if (isPage) {
    if (!(res.headers.get('content-security-policy') ?? '').includes("default-src 'none'")) return `a page without its CSP (${res.status})`;
    if (res.headers.get('x-content-type-options') !== 'nosniff' || res.headers.get('cache-control') !== 'no-store') return `a page without its headers (${res.status})`;
    return null;
  }
  if (method.toUpperCase() === 'HEAD' || res.status === 204 || res.status === 303) return null;
  if (!/^application\/json/.test(type)) return `status ${res.status} with content type '${type}': ${text.slice(0, 200)}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `status ${res.status}: the body is not JSON: ${text.slice(0, 200)}`;
  }
  if (res.status >= 400) {
    if (!isRecord(body) || typeof body.error !== 'string' || typeof body.message !== 'string' || body.message === '') {
      return `status ${res.status}: not {error, message}: ${text.slice(0, 200)}`;
    }
  }
  return null;
}

/** A JSON request body as sent: the text as is, or broken on the way (truncated, random bytes, bad UTF-8, oversized, nested deep). */
export function jsonRequestBody(rng: Rng, text: string, intact = 0.75): FuzzBody {
  if (rng.chance(intact)) return withBytes('json', text, rng);
  const kind = rng.pick(['truncated', 'random-bytes', 'invalid-utf8', 'oversized', 'deep-nesting', 'empty', 'bom', 'random-json', 'form']);
  switch (kind) {
    case 'truncated':
      return withBytes(kind, text.slice(0, rng.int(text.length)), rng);
    case 'random-bytes':
      return withBytes(kind, rng.bytes(rng.range(0, 1024)), rng);
    case 'invalid-utf8': {
      const bytes = Array.from(encode(text));
      bytes.splice(rng.int(bytes.length + 1), 0, ...rng.pick(INVALID_UTF8));
      return withBytes(kind, new Uint8Array(bytes), rng);
    }
    case 'oversized':
      return { ...oversized(rng, `${text.slice(0, -1)}, "padding": "`), label: 'oversized' };
    case 'deep-nesting':
      return withBytes(kind, deepJsonText(rng, rng.pick([1000, 10_000, 30_000])), rng);
    case 'empty':
      return withBytes(kind, rng.pick(['', ' ', 'null', '[]', '{}', '""']), rng);
    case 'bom':
      return withBytes(kind, `\ufeff${text}`, rng);
    case 'form':
      return { ...withBytes(kind, new URLSearchParams({ body: text }).toString(), rng), contentType: 'application/x-www-form-urlencoded' };
    default:
      return withBytes(kind, randomJsonText(rng, 4), rng);
  }
}

/**
 * How the relay must read a JSON body (SPEC §3's limits apply to every route): the value, or the
 * status refusing it. A leading BOM is dropped, as a UTF-8 decoder does by default (RFC 8259 §8.1
 * lets a parser ignore it). A string value with an unpaired surrogate (`"\\ud800"`, which no
 * UTF-8 text can hold and SQLite would store mangled) is refused.
 */
export function readJsonBody(body: FuzzBody): { ok: true; value: unknown } | { ok: false; status: 400 | 413 } {
  if (body.bytes.length > BODY_LIMIT || Number(body.contentLength ?? '0') > BODY_LIMIT) return { ok: false, status: 413 };
  let wellFormed = true;
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body.bytes), (_key, field: unknown) => {
      if (typeof field === 'string' && !field.isWellFormed()) wellFormed = false;
      return field;
    });
    return wellFormed ? { ok: true, value } : { ok: false, status: 400 };
  } catch {
    return { ok: false, status: 400 };
  }
}

/** A JSON text for `value` with one field swapped for another value, dropped, or one added. */
export function mutateFields(rng: Rng, value: Record<string, unknown>, choices: Readonly<Record<string, readonly unknown[]>>): string {
  const out: Record<string, unknown> = { ...value };
  const keys = Object.keys(choices);
  for (let n = rng.range(0, 2); n > 0; n--) {
    const key = rng.pick(keys);
    const pick = rng.int(10);
    if (pick === 0) Reflect.deleteProperty(out, key);
    else out[key] = rng.pick(choices[key] ?? [null]);
  }
  let text = JSON.stringify(out);
  if (rng.chance(0.05)) text = `${text.slice(0, -1)}, ${JSON.stringify(rng.pick(['extra', '__proto__', 'constructor', asciiString(rng, 6)]))}: ${randomJsonText(rng, 2)}}`;
  // JSON.stringify cannot write numbers past double range; a raw one goes in by hand.
  if (rng.chance(0.03)) text = `${text.slice(0, -1)}${text.length > 2 ? ',' : ''} ${JSON.stringify(rng.pick(keys))}: ${rng.pick(['1e309', '-1e309', '123456789012345678901234567890'])}}`;
  return text;
}
