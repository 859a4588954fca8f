/**
 * The cases of the loader fuzz: a seed deployment file with one to four text or structure
 * mutations, rebuilt from (seed, index) alone, and the smaller seeds cut from the full ones.
 * Erasable TypeScript only: the loader fuzz imports it in a plain Node worker thread.
 */
import { parseDocument, stringify } from 'yaml';
import { caseRng, isRecord } from './fuzz-random.ts';
import type { Rng } from './fuzz-random.ts';
import { cacheParsedSeed, mutateStructure, STRUCTURE_KINDS } from './fuzz-yaml-structure.ts';
import type { StructureKind } from './fuzz-yaml-structure.ts';
import { mutateText, TEXT_KINDS } from './fuzz-yaml-text.ts';
import type { TextKind } from './fuzz-yaml-text.ts';

export interface SeedFile {
  name: string;
  text: string;
}

/** How each case of the loader fuzz was made, for counting and for replaying. */
export type MutationKind = TextKind | StructureKind;

// Deep nesting costs 100–900 ms a case (yaml's recursive parser overflows and recovers) and a
// thousand aliases 20–40 ms, against 2–5 ms for the rest: both are rarer, to keep the run short.
const KIND_WEIGHTS: readonly (readonly [number, MutationKind])[] = [
  ...TEXT_KINDS.map((k) => [1, k] as const),
  ...STRUCTURE_KINDS.filter((k) => k !== 'deep-nesting' && k !== 'many-aliases').map((k) => [1.2, k] as const),
  [0.15, 'many-aliases'],
  [0.06, 'deep-nesting'],
];

function isTextKind(kind: MutationKind): kind is TextKind {
  return (TEXT_KINDS as readonly string[]).includes(kind);
}

/** Applies one mutation; undefined when it does not apply to this text (the caller falls back to another). */
export function mutate(rng: Rng, text: string, kind: MutationKind): string | undefined {
  return isTextKind(kind) ? mutateText(rng, text, kind) : mutateStructure(rng, text, kind);
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
  cacheParsedSeed(source.text);
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
