/**
 * The structure mutations of the loader fuzz: they parse a deployment file with yaml, edit the
 * document (scalars, keys, collections, anchors and aliases, tags, merge keys, deep nesting) and
 * print it back. Erasable TypeScript only: the loader fuzz imports it in a plain Node worker thread.
 */
import { isMap, isScalar, isSeq, parseDocument, Pair, Scalar } from 'yaml';
import type { Document } from 'yaml';
import { longString, ODD_NUMBERS, unicodeString } from './fuzz-random.ts';
import type { Rng } from './fuzz-random.ts';

/** The mutations that edit the parsed document. Their order is part of every generated case: reordering replays differently. */
export const STRUCTURE_KINDS = [
  'scalar-swap', 'key-swap', 'collection-swap', 'duplicate-key', 'anchor-alias', 'alias-bomb', 'many-aliases', 'tags',
  'merge-key', 'proto-keys', 'deep-nesting',
] as const;
export type StructureKind = (typeof STRUCTURE_KINDS)[number];

type Raw = string | ((indent: number) => string);

// Seeds parsed once: cloning a document costs a fraction of parsing it again.
const parsedSeeds = new Map<string, Document>();

/** Parses a seed once, for the structure mutations to clone from then on. */
export function cacheParsedSeed(text: string): void {
  if (!parsedSeeds.has(text)) parsedSeeds.set(text, parseDocument(text, { merge: true, uniqueKeys: false }));
}

/** A place in a parsed document where a node sits, and how to put another one there. */
export interface Slot {
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
export function structural(rng: Rng, text: string, edit: (doc: Document, slots: Slot[], raw: (text: Raw) => Scalar) => void): string | undefined {
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

export function valueSlots(slots: Slot[]): Slot[] {
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

function anchorName(rng: Rng): string {
  return `fz${rng.int(1e6)}`;
}

/** One edit per kind, each drawing from `rng` exactly as it always has (a replayed case must come out the same). */
const STRUCTURE_EDITS: Record<StructureKind, (rng: Rng, slots: Slot[], raw: (text: Raw) => Scalar) => void> = {
  'scalar-swap': (rng, slots, raw) => {
    const scalars = valueSlots(slots).filter((s) => isScalar(s.node));
    for (let n = rng.range(1, 3); n > 0 && scalars.length > 0; n--) rng.pick(scalars).set(raw(scalarReplacement(rng)));
  },
  'key-swap': (rng, slots, raw) => {
    const keys = slots.filter((s) => s.role === 'key');
    if (keys.length > 0) rng.pick(keys).set(raw(`${rng.pick(KEY_REPLACEMENTS)} `));
  },
  'collection-swap': (rng, slots, raw) => {
    const collections = slots.filter((s) => isMap(s.node) || isSeq(s.node));
    if (collections.length === 0) return;
    const slot = rng.pick(collections);
    const json = flowText(slot.node);
    const choices = ['[]', '{}', '~', '42', '"a string"', `[${json}]`, `{wrapped: ${json}}`];
    if (isMap(slot.node)) choices.push(`[${slot.node.items.map((p) => `{${flowText(p.key)}: ${flowText(p.value)}}`).join(', ')}]`);
    if (isSeq(slot.node)) choices.push(`{${slot.node.items.map((item, i) => `${i}: ${flowText(item)}`).join(', ')}}`);
    slot.set(raw(rng.pick(choices)));
  },
  'duplicate-key': (rng, slots, raw) => {
    const maps = slots.flatMap((s) => (isMap(s.node) && s.node.items.length > 0 ? [s.node] : []));
    if (maps.length === 0) return;
    const map = rng.pick(maps);
    const pair = rng.pick(map.items);
    const copy = new Pair(isScalar(pair.key) ? pair.key.clone() : pair.key, rng.chance(0.5) ? raw(scalarReplacement(rng)) : pair.value);
    map.items.splice(rng.int(map.items.length + 1), 0, copy);
  },
  'anchor-alias': (rng, slots, raw) => {
    const anchorable = slots.filter((s) => s.role !== 'key' && (isMap(s.node) || isSeq(s.node) || isScalar(s.node)));
    if (anchorable.length === 0) return;
    const name = anchorName(rng);
    (rng.pick(anchorable).node as { anchor?: string }).anchor = name;
    for (let n = rng.range(1, 4); n > 0; n--) {
      const target = rng.pick(slots);
      const source = rng.chance(0.1) ? 'nope' : name;
      target.set(raw(target.role === 'key' ? `*${source} ` : `*${source}`));
    }
  },
  'alias-bomb': (rng, slots, raw) => {
    const places = valueSlots(slots);
    if (places.length > 0) rng.pick(places).set(raw(billionLaughs(rng)));
  },
  'many-aliases': (rng, slots, raw) => {
    const places = valueSlots(slots);
    if (places.length === 0) return;
    const name = anchorName(rng);
    const count = rng.pick([900, 1000, 1001, 1500, 3000]);
    rng.pick(places).set(raw(`[&${name} ${flowText(rng.pick(places).node)}, ${Array(count).fill(`*${name}`).join(', ')}]`));
  },
  'tags': (rng, slots, raw) => {
    const places = slots.filter((s) => s.role !== 'root');
    for (let n = rng.range(1, 2); n > 0 && places.length > 0; n--) {
      const slot = rng.pick(places);
      slot.set(raw(`${rng.pick(TAGS)} ${flowText(slot.node)}${slot.role === 'key' ? ' ' : ''}`));
    }
  },
  'merge-key': (rng, slots, raw) => {
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
  },
  'proto-keys': (rng, slots, raw) => {
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
  },
  'deep-nesting': (rng, slots, raw) => {
    const places = valueSlots(slots);
    if (places.length > 0) rng.pick(places).set(raw(deepNesting(rng)));
  },
};

/** Applies one structure mutation; undefined when yaml cannot parse or print the text. */
export function mutateStructure(rng: Rng, text: string, kind: StructureKind): string | undefined {
  return structural(rng, text, (_doc, slots, raw) => STRUCTURE_EDITS[kind](rng, slots, raw));
}
