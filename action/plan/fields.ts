// Reading the maps of a deployment file with every problem kept, at its line and column, so the
// whole file can be reported at once.
import { z } from 'zod';
import type { Location } from './plan.ts';
import { describe, isPlainMap, zodMessage } from './schemas.ts';
import type { YamlMap } from './schemas.ts';
import { formatPath } from './yaml-locator.ts';
import type { Locate, Path, Segment } from './yaml-locator.ts';

export interface FileError {
  file: string;
  line: number;
  col: number;
  /** Field path such as `targets.prod.constraints.dependsOn[0]`; empty for the whole file. */
  path: string;
  message: string;
}

/** One read of one file: where its problems go and how a path is placed in it. */
export interface Ctx {
  file: string;
  errors: FileError[];
  /** The first notice of each kind of ignored field. */
  notices: Map<string, { line: number; col: number; text: string }>;
  locate: Locate;
  /** The file's `roles:` map, read before the steps that name its roles; empty when the file has none. */
  roles: ReadonlyMap<string, readonly string[]>;
}

const KUBERNETES_FIELDS: readonly string[] = ['account', 'namespace', 'kind', 'manifests', 'trafficManagement', 'deploymentConfig'];
export const ANALYSIS_UNSUPPORTED = 'analysis steps are not supported; call your analysis service with a runWebhook step instead';

/** Records an error at a path's value, or at its key for a field that should not be there. */
export function fail(ctx: Ctx, path: Path, message: string, at: 'key' | 'value' = 'value'): void {
  const { line, col } = ctx.locate(path, at);
  ctx.errors.push({ file: ctx.file, line, col, path: formatPath(path), message });
}

/** Records a notice about an ignored field, one per kind, at its first place in the file. */
export function notice(ctx: Ctx, kind: string, path: Path, reason: string): void {
  const { line, col } = ctx.locate(path, 'key');
  const first = ctx.notices.get(kind);
  // Sections are read out of file order; keep the occurrence that comes first in the file.
  if (first !== undefined && (first.line < line || (first.line === line && first.col <= col))) return;
  ctx.notices.set(kind, { line, col, text: `${formatPath(path)} ${reason} (${ctx.file}:${line}:${col})` });
}

/** Where a path's value was written, for the plan. */
export function location(ctx: Ctx, path: Path): Location {
  return { file: ctx.file, ...ctx.locate(path, 'value') };
}

/** A key of a map as YAML gave it; undefined for a key it does not have, inherited ones included. */
export function own(map: YamlMap, key: string): unknown {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** ` (did you mean 'x'?)` for the closest candidate to a mistyped name, or an empty string. */
export function suggest(word: string, candidates: Iterable<string>): string {
  // Hints are for typos in names; a long string is no name, and comparing it costs length².
  if (word.length > 64) return '';
  const lower = word.toLowerCase();
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const other = candidate.toLowerCase();
    if (Math.abs(candidate.length - word.length) > limit && !other.startsWith(lower)) continue;
    // A cut-off name (`val` for `value`) is as likely a slip as a typo.
    const distance = other === lower ? 0 : word.length >= 3 && other.startsWith(lower) ? 1 : editDistance(lower, other);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best === undefined ? '' : ` (did you mean '${best}'?)`;
}

function unknownField(key: string, known: readonly string[]): string {
  if (key === 'analysis') return ANALYSIS_UNSUPPORTED;
  return `unknown field '${key}'${suggest(key, known)}`;
}

/** The map at `path` with unknown keys reported; Kubernetes-only keys get a notice when allowed. */
export function fieldsOf(ctx: Ctx, value: unknown, path: Path, known: readonly string[], kubernetes = false): YamlMap | undefined {
  if (!isPlainMap(value)) {
    fail(ctx, path, `expected a map, got ${describe(value)}`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    if (kubernetes && KUBERNETES_FIELDS.includes(key)) notice(ctx, key, [...path, key], 'is a Kubernetes field and is ignored');
    else fail(ctx, [...path, key], unknownField(key, kubernetes ? [...known, ...KUBERNETES_FIELDS] : known), 'key');
  }
  return value;
}

/** A map whose keys are names the user chose (targets, strategies), so any key is fine. */
export function mapOf(ctx: Ctx, value: unknown, path: Path, what: string): YamlMap | undefined {
  if (isPlainMap(value)) return value;
  fail(ctx, path, `expected a map of ${what}, got ${describe(value)}`);
  return undefined;
}

/** Object keys a schema accepts at `path`, for "did you mean" hints. */
function shapeKeys(schema: unknown, path: readonly PropertyKey[]): string[] {
  let current = schema;
  let i = 0;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault) {
      current = current.unwrap();
    } else if (current instanceof z.ZodPipe) {
      current = current.in;
    } else if (i < path.length) {
      const segment = path[i++];
      if (current instanceof z.ZodObject) current = (current.shape as Record<string, unknown>)[String(segment)];
      else if (current instanceof z.ZodArray) current = current.element;
      else return [];
    } else {
      return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
    }
  }
}

/** Parses a value with a schema, reporting every issue at its position; undefined when invalid. */
export function check<T>(ctx: Ctx, schema: z.ZodType<T>, value: unknown, path: Path): T | undefined {
  const result = schema.safeParse(value, { error: zodMessage });
  if (result.success) return result.data;
  const reported = new Set<string>();
  for (const issue of result.error.issues) {
    const at = [...path, ...issue.path.filter((s): s is Segment => typeof s !== 'symbol')];
    // zod may add a range issue after a type issue for the same value; the first says it all.
    const key = `${issue.code === 'unrecognized_keys' ? 'keys:' : ''}${formatPath(at)}`;
    if (reported.has(key)) continue;
    reported.add(key);
    if (issue.code === 'unrecognized_keys') {
      const known = shapeKeys(schema, issue.path);
      for (const key of issue.keys) fail(ctx, [...at, key], unknownField(key, known), 'key');
    } else {
      fail(ctx, at, issue.message);
    }
  }
  return undefined;
}
