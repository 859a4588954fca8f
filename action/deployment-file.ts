import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document } from 'yaml';
import { z } from 'zod';
import type { Commands, GateItem, Location, Plan, Strategy, StrategyStep, TargetPlan, WebhookDef } from './plan.ts';
import { BUILTIN_NAMES, isKnownName, parseTemplate } from './template.ts';

export interface LoadOptions {
  /** The path shown in errors; `bodyTemplate.path` is resolved against its directory. */
  file: string;
  text: string;
  secretNames: ReadonlySet<string>;
  inputContext: Record<string, string>;
  defaultApplication: string;
  /** Reads a `bodyTemplate.path` exactly as written, relative to the deployment file's directory; default: the file system. */
  readFile?: (path: string) => string;
}

export interface FileError {
  file: string;
  line: number;
  col: number;
  /** Field path such as `targets.prod.constraints.dependsOn[0]`; empty for the whole file. */
  path: string;
  message: string;
}

export type LoadResult = { ok: true; plan: Plan } | { ok: false; errors: FileError[] };

type Segment = string | number;
type Path = readonly Segment[];
type YamlMap = Record<string, unknown>;

const DEFAULT_TIMEOUT_SECONDS = 24 * 3600;
const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;
// Far above any real file, far below what an alias bomb expands to.
const MAX_ALIAS_COUNT = 10_000;
const UNIT_SECONDS: ReadonlyMap<string, number> = new Map([
  ['second', 1], ['seconds', 1], ['minute', 60], ['minutes', 60], ['hour', 3600], ['hours', 3600],
]);
const KUBERNETES_FIELDS: readonly string[] = ['account', 'namespace', 'kind', 'manifests', 'trafficManagement', 'deploymentConfig'];
const TOP_FIELDS = ['version', 'application', 'context', 'commands', 'targets', 'strategies', 'webhooks'];
const TARGET_FIELDS = ['strategy', 'constraints', 'commands'];
const CONSTRAINT_FIELDS = ['dependsOn', 'beforeDeployment', 'afterDeployment'];
const BLUE_GREEN_FIELDS = ['activeService', 'previewService', 'redirectTrafficAfter', 'shutDownOldVersionAfter', 'shutdownOldVersionAfter'];
const NETWORK_FIELDS = ['networkMode', 'agentIdentifier'];
const WEBHOOK_FIELDS = ['name', 'method', 'uriTemplate', 'headers', 'bodyTemplate', 'retryCount', 'disableCallback', 'timeout', ...NETWORK_FIELDS];
const ANALYSIS_UNSUPPORTED = 'analysis steps are not supported; call your analysis service with a runWebhook step instead';
// RFC 9110 token characters.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

// ---- zod schemas for the leaves; the walker below handles maps of user-chosen names ----

const scalarString = z
  .union([z.string(), z.number(), z.boolean()], {
    error: (iss) => (iss.input === undefined ? 'required field missing' : `expected a string, number or true/false, got ${describe(iss.input)}`),
  })
  .transform((v) => String(v));
const contextSchema = z.record(z.string(), scalarString);
const nonEmpty = z.string().min(1);
const durationSchema = z
  .strictObject({ duration: z.number().nonnegative(), unit: z.string().optional(), units: z.string().optional() })
  .superRefine((d, rc) => {
    const unit = d.unit ?? d.units;
    if (d.unit !== undefined && d.units !== undefined) {
      rc.addIssue({ code: 'custom', path: ['units'], message: 'give either unit or units, not both' });
    } else if (unit === undefined) {
      rc.addIssue({ code: 'custom', path: ['unit'], message: 'required field missing (seconds, minutes or hours)' });
    } else if (!UNIT_SECONDS.has(unit.toLowerCase())) {
      rc.addIssue({ code: 'custom', path: [d.unit === undefined ? 'units' : 'unit'], message: `unknown unit '${unit}'; use seconds, minutes or hours` });
    }
  })
  .transform((d) => d.duration * (UNIT_SECONDS.get((d.unit ?? d.units ?? '').toLowerCase()) ?? 1));
const positiveDuration = durationSchema.refine((s) => s > 0, 'must be longer than 0 seconds');
const timeoutSchema = positiveDuration.refine((s) => s <= MAX_TIMEOUT_SECONDS, 'must be at most 7 days (168 hours)');
const commandSchema = z.string().refine((s) => s.trim() !== '', 'must not be empty; leave the command out to skip it');
const commandsSchema = z.strictObject({
  deploy: commandSchema.optional(),
  setWeight: commandSchema.optional(),
  redirectTraffic: commandSchema.optional(),
  shutDownOldVersion: commandSchema.optional(),
  rollback: commandSchema.optional(),
});
const dependsOnSchema = z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(nonEmpty).nullish());
const setWeightSchema = z.strictObject({ weight: z.int().min(0).max(100) });
const runWebhookSchema = z.strictObject({ name: nonEmpty, context: contextSchema.nullish() });
const pauseSchema = z.strictObject({
  duration: z.unknown().optional(),
  unit: z.unknown().optional(),
  units: z.unknown().optional(),
  untilApproved: z.boolean().optional(),
  approvalExpiration: positiveDuration.optional(),
  requiresRoles: z.array(nonEmpty).optional(),
  requiresRole: z.union([nonEmpty, z.array(nonEmpty)], { error: 'expected a role name or a list of role names' }).optional(),
});
const webhookSchema = z.object({
  name: nonEmpty,
  method: z.string().regex(/^[A-Za-z]+$/, 'expected an HTTP method such as POST').optional(),
  uriTemplate: nonEmpty,
  headers: z.array(z.strictObject({ key: z.string().regex(HEADER_NAME, 'expected an HTTP header name'), value: scalarString })).nullish(),
  bodyTemplate: z.strictObject({ inline: z.string().optional(), path: nonEmpty.optional() }).nullish(),
  retryCount: z.int().min(0).max(10).optional(),
  disableCallback: z.boolean().optional(),
  timeout: timeoutSchema.optional(),
});

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string', number: 'a number', int: 'a whole number', boolean: 'true or false',
  object: 'a map', record: 'a map', array: 'a list',
};

function zodMessage(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'required field missing';
      if (typeof iss.input === 'number' && !Number.isFinite(iss.input)) return `expected a finite number, got ${describe(iss.input)}`;
      return `expected ${EXPECTED[iss.expected] ?? iss.expected}, got ${describe(iss.input)}`;
    case 'too_small':
      if (iss.origin === 'string') return 'must not be empty';
      if (iss.origin === 'array') return `needs at least ${iss.minimum} item(s)`;
      return `must be ${iss.inclusive === false ? 'more than' : 'at least'} ${iss.minimum}, got ${describe(iss.input)}`;
    case 'too_big':
      return `must be ${iss.inclusive === false ? 'less than' : 'at most'} ${iss.maximum}, got ${describe(iss.input)}`;
    default:
      return undefined;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object' && !isPlainMap(value)) return 'a tagged value (such as !!set or !!binary)';
  switch (typeof value) {
    case 'string':
      return `the string '${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return String(value);
    case 'object':
      return 'a map';
    default:
      return typeof value;
  }
}

// ---- error collection and positions ----

interface Ctx {
  file: string;
  errors: FileError[];
  /** The first notice of each kind of ignored field. */
  notices: Map<string, { line: number; col: number; text: string }>;
  locate: (path: Path, at: 'key' | 'value') => { line: number; col: number };
}

/** Formats a FileError as `file:line:col: path: message`, the shape of a GitHub annotation's text. */
export function formatFileError(e: FileError): string {
  return `${e.file}:${e.line}:${e.col}: ${e.path === '' ? '' : `${e.path}: `}${e.message}`;
}

function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function fail(ctx: Ctx, path: Path, message: string, at: 'key' | 'value' = 'value'): void {
  const { line, col } = ctx.locate(path, at);
  ctx.errors.push({ file: ctx.file, line, col, path: formatPath(path), message });
}

function notice(ctx: Ctx, kind: string, path: Path, reason: string): void {
  const { line, col } = ctx.locate(path, 'key');
  const first = ctx.notices.get(kind);
  // Sections are read out of file order; keep the occurrence that comes first in the file.
  if (first !== undefined && (first.line < line || (first.line === line && first.col <= col))) return;
  ctx.notices.set(kind, { line, col, text: `${formatPath(path)} ${reason} (${ctx.file}:${line}:${col})` });
}

function location(ctx: Ctx, path: Path): Location {
  return { file: ctx.file, ...ctx.locate(path, 'value') };
}

function rangeStart(node: unknown): number | undefined {
  if (node === null || typeof node !== 'object' || !('range' in node)) return undefined;
  const range: unknown = node.range;
  if (!Array.isArray(range) || typeof range[0] !== 'number') return undefined;
  // An empty value (`key:` and nothing) has a zero-length range; its key is the better place.
  if (isScalar(node) && node.value === null && range[1] === range[0]) return undefined;
  return range[0];
}

/** Finds the node for a path, falling back to the nearest parent that exists in the file. */
function makeLocator(doc: Document, lineCounter: LineCounter): Ctx['locate'] {
  const deref = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);
  const keyText = (key: unknown): string | undefined => {
    const k = deref(key);
    return isScalar(k) ? String(k.value) : undefined;
  };
  return (path, at) => {
    let node: unknown = doc.contents;
    let best = rangeStart(node);
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      const collection = deref(node);
      let keyNode: unknown;
      let next: unknown;
      if (isMap(collection)) {
        const pair = collection.items.find((p) => keyText(p.key) === String(segment));
        if (pair === undefined) break;
        keyNode = pair.key;
        next = pair.value;
      } else if (isSeq(collection) && typeof segment === 'number') {
        next = collection.items[segment];
        if (next === undefined) break;
      } else {
        break;
      }
      const wantKey = at === 'key' && i === path.length - 1;
      best = (wantKey ? rangeStart(keyNode) : undefined) ?? rangeStart(next) ?? rangeStart(keyNode) ?? best;
      node = next;
    }
    return best === undefined ? { line: 1, col: 1 } : lineCounter.linePos(best);
  };
}

// ---- generic readers ----

function isPlainMap(value: unknown): value is YamlMap {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function own(map: YamlMap, key: string): unknown {
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

function suggest(word: string, candidates: Iterable<string>): string {
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
function fieldsOf(ctx: Ctx, value: unknown, path: Path, known: readonly string[], kubernetes = false): YamlMap | undefined {
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
function mapOf(ctx: Ctx, value: unknown, path: Path, what: string): YamlMap | undefined {
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
function check<T>(ctx: Ctx, schema: z.ZodType<T>, value: unknown, path: Path): T | undefined {
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

// ---- steps and gate lists ----

interface WebhookRef {
  name: string;
  path: Path;
  user: string;
  contextKeys: string[];
}

type Where = 'constraint' | 'canary' | 'blueGreen';

function readPause(ctx: Ctx, value: unknown, path: Path, at: Location): GateItem | undefined {
  const pause = check(ctx, pauseSchema, value, path);
  if (pause === undefined) return undefined;
  const timed = pause.duration !== undefined || pause.unit !== undefined || pause.units !== undefined;
  if (pause.untilApproved !== undefined && timed) {
    fail(ctx, path, 'a pause is either {duration, unit} or {untilApproved: true}, not both');
    return undefined;
  }
  if (pause.untilApproved === false) {
    fail(ctx, [...path, 'untilApproved'], 'must be true; for a timed pause give duration and unit instead');
    return undefined;
  }
  if (pause.untilApproved === true) {
    if (pause.requiresRoles !== undefined && pause.requiresRole !== undefined) {
      fail(ctx, [...path, 'requiresRole'], 'give either requiresRoles or requiresRole, not both', 'key');
      return undefined;
    }
    const roles = pause.requiresRoles ?? pause.requiresRole ?? [];
    return {
      kind: 'approval',
      expirationSeconds: pause.approvalExpiration ?? null,
      roles: typeof roles === 'string' ? [roles] : roles,
      location: at,
    };
  }
  const approvalOnly = (['approvalExpiration', 'requiresRoles', 'requiresRole'] as const).filter((k) => pause[k] !== undefined);
  for (const key of approvalOnly) fail(ctx, [...path, key], 'only applies to a pause with untilApproved: true', 'key');
  if (!timed) {
    fail(ctx, path, 'a pause needs duration and unit, or untilApproved: true');
    return undefined;
  }
  const timedPart = Object.fromEntries(Object.entries({ duration: pause.duration, unit: pause.unit, units: pause.units }).filter(([, v]) => v !== undefined));
  const seconds = check(ctx, durationSchema, timedPart, path);
  return seconds === undefined || approvalOnly.length > 0 ? undefined : { kind: 'pause', seconds, location: at };
}

function readStep(ctx: Ctx, item: unknown, path: Path, user: string, where: Where, refs: WebhookRef[]): StrategyStep | undefined {
  const kinds = where === 'canary' ? ['setWeight', 'pause', 'runWebhook', 'exposeServices'] : ['pause', 'runWebhook'];
  if (!isPlainMap(item)) {
    fail(ctx, path, `expected a step (${kinds.join(', ')}), got ${describe(item)}`);
    return undefined;
  }
  const keys = Object.keys(item);
  const kind = keys[0];
  if (kind === undefined || keys.length > 1) {
    const found = keys.length === 0 ? 'nothing' : keys.map((k) => `'${k}'`).join(' and ');
    const hint = keys.filter((k) => kinds.includes(k)).length > 1 ? ' (put each in its own list item)' : '';
    fail(ctx, path, `a step has exactly one of ${kinds.join(', ')}; found ${found}${hint}`);
    return undefined;
  }
  const body = item[kind];
  const at = [...path, kind];
  const here = location(ctx, path);
  switch (kind) {
    case 'pause':
      return readPause(ctx, body, at, here);
    case 'runWebhook': {
      const step = check(ctx, runWebhookSchema, body, at);
      if (step === undefined) return undefined;
      const context = step.context ?? {};
      refs.push({ name: step.name, path: [...at, 'name'], user, contextKeys: Object.keys(context) });
      return { kind: 'webhook', webhook: step.name, context, location: here };
    }
    case 'setWeight': {
      if (where !== 'canary') {
        fail(ctx, at, "setWeight steps belong in a canary strategy's steps", 'key');
        return undefined;
      }
      const step = check(ctx, setWeightSchema, body, at);
      return step === undefined ? undefined : { kind: 'setWeight', weight: step.weight, location: here };
    }
    case 'exposeServices':
      notice(ctx, kind, at, 'is a Kubernetes field and is ignored');
      return undefined;
    case 'analysis':
      fail(ctx, at, ANALYSIS_UNSUPPORTED, 'key');
      return undefined;
    default:
      fail(ctx, at, `unknown step '${kind}'; expected ${kinds.join(', ')}${suggest(kind, kinds)}`, 'key');
      return undefined;
  }
}

function readSteps(ctx: Ctx, value: unknown, path: Path, user: string, where: Where, refs: WebhookRef[]): StrategyStep[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    fail(ctx, path, `expected a list of steps, got ${describe(value)}`);
    return [];
  }
  return value.flatMap((item: unknown, i) => readStep(ctx, item, [...path, i], user, where, refs) ?? []);
}

function readGates(ctx: Ctx, value: unknown, path: Path, user: string, where: Where, refs: WebhookRef[]): GateItem[] {
  return readSteps(ctx, value, path, user, where, refs).filter((s): s is GateItem => s.kind !== 'setWeight');
}

// ---- sections ----

function readStrategies(ctx: Ctx, value: unknown, refs: WebhookRef[]): Map<string, Strategy> {
  const strategies = new Map<string, Strategy>();
  if (value === undefined || value === null) return strategies;
  const all = mapOf(ctx, value, ['strategies'], 'strategy names to strategies');
  if (all === undefined) return strategies;
  for (const [name, raw] of Object.entries(all)) {
    const path = ['strategies', name];
    const user = `strategy ${name}`;
    const fields = fieldsOf(ctx, raw, path, ['canary', 'blueGreen']);
    if (fields === undefined) continue;
    const canary = own(fields, 'canary');
    const blueGreen = own(fields, 'blueGreen');
    if (canary !== undefined && blueGreen !== undefined) {
      fail(ctx, path, 'a strategy is either canary or blueGreen, not both');
    } else if (canary !== undefined) {
      const c = canary === null ? {} : fieldsOf(ctx, canary, [...path, 'canary'], ['steps']);
      if (c === undefined) continue;
      strategies.set(name, { kind: 'canary', name, steps: readSteps(ctx, own(c, 'steps'), [...path, 'canary', 'steps'], user, 'canary', refs) });
    } else if (blueGreen !== undefined) {
      const bgPath = [...path, 'blueGreen'];
      const bg = blueGreen === null ? {} : fieldsOf(ctx, blueGreen, bgPath, BLUE_GREEN_FIELDS);
      if (bg === undefined) continue;
      for (const service of ['activeService', 'previewService']) check(ctx, z.string().optional(), own(bg, service), [...bgPath, service]);
      const shutDownSpelling = own(bg, 'shutDownOldVersionAfter') !== undefined ? 'shutDownOldVersionAfter' : 'shutdownOldVersionAfter';
      if (own(bg, 'shutDownOldVersionAfter') !== undefined && own(bg, 'shutdownOldVersionAfter') !== undefined) {
        fail(ctx, [...bgPath, 'shutdownOldVersionAfter'], 'give either shutDownOldVersionAfter or shutdownOldVersionAfter, not both', 'key');
      }
      strategies.set(name, {
        kind: 'blueGreen',
        name,
        redirectTrafficAfter: readGates(ctx, own(bg, 'redirectTrafficAfter'), [...bgPath, 'redirectTrafficAfter'], user, 'blueGreen', refs),
        shutDownOldVersionAfter: readGates(ctx, own(bg, shutDownSpelling), [...bgPath, shutDownSpelling], user, 'blueGreen', refs),
      });
    } else if (Object.keys(fields).every((k) => k === 'canary' || k === 'blueGreen')) {
      fail(ctx, path, 'a strategy needs canary or blueGreen');
    }
  }
  return strategies;
}

interface TemplateField {
  path: Path;
  text: string;
  isUri: boolean;
  /** The file a `bodyTemplate.path` template came from. */
  source?: string;
}

interface ParsedWebhook {
  def: WebhookDef;
  path: Path;
  templates: TemplateField[];
}

type BodyRead = { ok: true; text: string } | { ok: false; message: string };

function readWebhooks(ctx: Ctx, value: unknown, readBody: (path: string) => BodyRead): { webhooks: Map<string, ParsedWebhook>; names: Set<string> } {
  const webhooks = new Map<string, ParsedWebhook>();
  // Names of webhooks that failed validation too, so their uses are not reported as undefined.
  const names = new Set<string>();
  if (value === undefined || value === null) return { webhooks, names };
  if (!Array.isArray(value)) {
    fail(ctx, ['webhooks'], `expected a list of webhooks, got ${describe(value)}`);
    return { webhooks, names };
  }
  value.forEach((item: unknown, i) => {
    const path = ['webhooks', i];
    const fields = fieldsOf(ctx, item, path, WEBHOOK_FIELDS);
    if (fields === undefined) return;
    const rawName = own(fields, 'name');
    if (typeof rawName === 'string') names.add(rawName);
    for (const key of NETWORK_FIELDS) {
      if (own(fields, key) !== undefined) notice(ctx, key, [...path, key], 'is ignored: the runner itself is inside your network');
    }
    const w = check(ctx, webhookSchema, fields, path);
    if (w === undefined) return;
    const previous = webhooks.get(w.name);
    if (previous !== undefined) {
      const at = previous.def.location;
      fail(ctx, [...path, 'name'], `webhook '${w.name}' is already defined at ${formatPath(previous.path)} (${at.file}:${at.line}:${at.col}); names must be unique`);
      return;
    }
    const templates: TemplateField[] = [{ path: [...path, 'uriTemplate'], text: w.uriTemplate, isUri: true }];
    const headers = (w.headers ?? []).map((h, j) => {
      templates.push({ path: [...path, 'headers', j, 'value'], text: h.value, isUri: false });
      return { key: h.key, value: h.value };
    });
    let bodyTemplate: string | null = null;
    if (w.bodyTemplate !== undefined && w.bodyTemplate !== null) {
      const { inline, path: bodyPath } = w.bodyTemplate;
      const at = [...path, 'bodyTemplate'];
      if (inline !== undefined && bodyPath !== undefined) {
        fail(ctx, at, 'give either inline or path, not both');
      } else if (inline !== undefined) {
        bodyTemplate = inline;
        templates.push({ path: [...at, 'inline'], text: inline, isUri: false });
      } else if (bodyPath !== undefined) {
        const read = readBody(bodyPath);
        if (read.ok) {
          bodyTemplate = read.text;
          templates.push({ path: [...at, 'path'], text: read.text, isUri: false, source: bodyPath });
        } else {
          fail(ctx, [...at, 'path'], read.message);
        }
      } else {
        fail(ctx, at, 'needs inline (the body itself) or path (a file holding it)');
      }
    }
    webhooks.set(w.name, {
      path,
      templates,
      def: {
        name: w.name,
        method: (w.method ?? 'POST').toUpperCase(),
        uriTemplate: w.uriTemplate,
        headers,
        bodyTemplate,
        retryCount: w.retryCount ?? 0,
        disableCallback: w.disableCallback ?? false,
        timeoutSeconds: w.timeout ?? DEFAULT_TIMEOUT_SECONDS,
        location: location(ctx, path),
      },
    });
  });
  return { webhooks, names };
}

interface ParsedTarget {
  name: string;
  path: Path;
  strategy: string | undefined;
  commands: Commands;
  dependsOn: { name: string; path: Path }[];
  beforeDeployment: GateItem[];
  afterDeployment: GateItem[];
}

function readTargets(ctx: Ctx, value: unknown, refs: WebhookRef[]): { targets: ParsedTarget[]; names: Set<string> } {
  const targets: ParsedTarget[] = [];
  if (value === undefined) {
    fail(ctx, ['targets'], 'required field missing: a map of targets (environments) such as staging and prod');
    return { targets, names: new Set() };
  }
  const all = mapOf(ctx, value, ['targets'], 'target names to targets');
  if (all === undefined) return { targets, names: new Set() };
  const entries = Object.entries(all);
  if (entries.length === 0) fail(ctx, ['targets'], 'needs at least one target');
  for (const [name, raw] of entries) {
    const path = ['targets', name];
    const user = `target ${name}`;
    const fields = raw === null ? {} : fieldsOf(ctx, raw, path, TARGET_FIELDS, true);
    if (fields === undefined) continue;
    const constraintsPath = [...path, 'constraints'];
    const rawConstraints = own(fields, 'constraints');
    const constraints = (rawConstraints === undefined || rawConstraints === null ? {} : fieldsOf(ctx, rawConstraints, constraintsPath, CONSTRAINT_FIELDS)) ?? {};
    const dependsOnPath = [...constraintsPath, 'dependsOn'];
    const dependsOn = check(ctx, dependsOnSchema, own(constraints, 'dependsOn'), dependsOnPath) ?? [];
    targets.push({
      name,
      path,
      strategy: check(ctx, nonEmpty.optional(), own(fields, 'strategy'), [...path, 'strategy']),
      commands: check(ctx, commandsSchema.nullish(), own(fields, 'commands'), [...path, 'commands']) ?? {},
      dependsOn: dependsOn.map((dep, i) => ({ name: dep, path: [...dependsOnPath, i] })),
      beforeDeployment: readGates(ctx, own(constraints, 'beforeDeployment'), [...constraintsPath, 'beforeDeployment'], user, 'constraint', refs),
      afterDeployment: readGates(ctx, own(constraints, 'afterDeployment'), [...constraintsPath, 'afterDeployment'], user, 'constraint', refs),
    });
  }
  return { targets, names: new Set(Object.keys(all)) };
}

// ---- checks across sections ----

/** Every dependency cycle found by a depth-first walk in file order, each as a → b → a. */
function findCycles(order: readonly string[], deps: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[][] = [];
  for (const start of order) {
    if (state.has(start)) continue;
    // Iterative, so a long dependsOn chain cannot overflow the stack.
    const stack: { name: string; next: number }[] = [{ name: start, next: 0 }];
    state.set(start, 'open');
    for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
      const dep = deps.get(top.name)?.[top.next++];
      if (dep === undefined) {
        state.set(top.name, 'done');
        stack.pop();
      } else if (state.get(dep) === 'open') {
        const from = stack.findIndex((frame) => frame.name === dep);
        cycles.push([...stack.slice(from).map((frame) => frame.name), dep]);
      } else if (!state.has(dep)) {
        state.set(dep, 'open');
        stack.push({ name: dep, next: 0 });
      }
    }
  }
  return cycles;
}

/** Validates dependsOn and returns the targets in run order with their dependencies, or undefined. */
function orderTargets(ctx: Ctx, targets: readonly ParsedTarget[], names: ReadonlySet<string>): { target: ParsedTarget; dependsOn: string[] }[] | undefined {
  const deps = new Map<string, string[]>();
  for (const target of targets) {
    const valid: string[] = [];
    for (const dep of target.dependsOn) {
      if (dep.name === target.name) fail(ctx, dep.path, `target ${target.name} cannot depend on itself`);
      else if (!names.has(dep.name)) fail(ctx, dep.path, `target '${dep.name}' is not defined under targets${suggest(dep.name, names)}`);
      else if (!valid.includes(dep.name)) valid.push(dep.name);
    }
    deps.set(target.name, valid);
  }
  const byName = new Map(targets.map((t) => [t.name, t]));
  for (const cycle of findCycles(targets.map((t) => t.name), deps)) {
    const [first, second] = cycle;
    const entry = byName.get(first ?? '')?.dependsOn.find((d) => d.name === second);
    fail(ctx, entry?.path ?? ['targets', first ?? ''], `dependsOn forms a cycle: ${cycle.join(' → ')}`);
  }
  // Kahn's algorithm, always taking the ready target that comes first in the file, so the order is stable.
  const index = new Map(targets.map((t, i) => [t.name, i]));
  const waitingOn = targets.map((t) => (deps.get(t.name) ?? []).filter((d) => index.has(d)).length);
  const dependents = targets.map(() => [] as number[]);
  targets.forEach((t, i) => {
    for (const d of deps.get(t.name) ?? []) dependents[index.get(d) ?? -1]?.push(i);
  });
  const ready = waitingOn.flatMap((count, i) => (count === 0 ? [i] : []));
  const ordered: { target: ParsedTarget; dependsOn: string[] }[] = [];
  for (let i = ready.shift(); i !== undefined; i = ready.shift()) {
    const target = targets[i];
    if (target === undefined) continue;
    ordered.push({ target, dependsOn: deps.get(target.name) ?? [] });
    for (const j of dependents[i] ?? []) {
      const left = (waitingOn[j] ?? 0) - 1;
      waitingOn[j] = left;
      if (left === 0) ready.splice(sortedIndex(ready, j), 0, j);
    }
  }
  return ordered.length === targets.length ? ordered : undefined;
}

function sortedIndex(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] ?? 0) < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

function isHttpUrlStart(text: string, whole: boolean): boolean {
  if (!whole) {
    const lower = text.toLowerCase();
    return /^https?:\/\//.test(lower) || 'https://'.startsWith(lower) || 'http://'.startsWith(lower);
  }
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function unknownVariable(name: string, webhook: string, secretNames: ReadonlySet<string>, contextKeys: ReadonlySet<string>): string {
  const head = `unknown template variable {{${name}}}`;
  if (name.startsWith('secrets.')) {
    const key = name.slice('secrets.'.length);
    return `${head}: the secrets input has no '${key}'${suggest(key, secretNames)}`;
  }
  if (name.startsWith('context.')) {
    const key = name.slice('context.'.length);
    return `${head}: '${key}' is set by neither the file's context, the context input nor a runWebhook step context of webhook '${webhook}'${suggest(key, contextKeys)}`;
  }
  const hint = suggest(name, BUILTIN_NAMES);
  return hint === '' ? `${head}; use armory.*, hookgate.*, github.*, context.<key> or secrets.<name>` : `${head}${hint}`;
}

function checkTemplates(ctx: Ctx, webhooks: ReadonlyMap<string, ParsedWebhook>, refs: readonly WebhookRef[], baseContextKeys: readonly string[], secretNames: ReadonlySet<string>): void {
  for (const [name, webhook] of webhooks) {
    // Lenient on purpose: a key any step gives this webhook counts for all its uses.
    const contextKeys = new Set([...baseContextKeys, ...refs.filter((r) => r.name === name).flatMap((r) => r.contextKeys)]);
    for (const field of webhook.templates) {
      const from = field.source === undefined ? '' : `in ${field.source}: `;
      const parsed = parseTemplate(field.text);
      if (!parsed.ok) {
        fail(ctx, field.path, `${from}${parsed.error.message}`);
        continue;
      }
      for (const variable of parsed.names) {
        if (!isKnownName(variable, { secretNames, contextKeys })) fail(ctx, field.path, from + unknownVariable(variable, name, secretNames, contextKeys));
      }
      const first = parsed.parts[0];
      if (field.isUri && first?.kind === 'text' && !isHttpUrlStart(first.text, parsed.parts.length === 1)) {
        fail(ctx, field.path, 'expected an http:// or https:// URL');
      }
    }
  }
}

// ---- the whole file ----

function readPlan(ctx: Ctx, root: unknown, options: LoadOptions): Plan | undefined {
  if (root === undefined || root === null) {
    fail(ctx, [], 'the file is empty; it needs at least a targets map');
    return undefined;
  }
  const top = fieldsOf(ctx, root, [], TOP_FIELDS, true);
  if (top === undefined) return undefined;
  const version = own(top, 'version');
  if (version !== undefined && version !== 'v1') fail(ctx, ['version'], `expected v1, got ${describe(version)}`);
  const application = check(ctx, nonEmpty.optional(), own(top, 'application'), ['application']) ?? options.defaultApplication;
  const fileContext = check(ctx, contextSchema.nullish(), own(top, 'context'), ['context']) ?? {};
  const commands = check(ctx, commandsSchema.nullish(), own(top, 'commands'), ['commands']) ?? {};

  const readFile = options.readFile ?? ((path: string) => readFileSync(resolve(dirname(options.file), path), 'utf8'));
  const readBody = (path: string): BodyRead => {
    try {
      const text: unknown = readFile(path);
      return typeof text === 'string' ? { ok: true, text } : { ok: false, message: `cannot read ${path}` };
    } catch (error) {
      return { ok: false, message: `cannot read ${path} (relative to the deployment file): ${error instanceof Error ? error.message : String(error)}` };
    }
  };

  const refs: WebhookRef[] = [];
  const { webhooks, names: webhookNames } = readWebhooks(ctx, own(top, 'webhooks'), readBody);
  const rawStrategies = own(top, 'strategies');
  const strategies = readStrategies(ctx, rawStrategies, refs);
  // Names of invalid strategies too, so a target using one gets no second, misleading error.
  const strategyNames = new Set(isPlainMap(rawStrategies) ? Object.keys(rawStrategies) : []);
  const { targets, names: targetNames } = readTargets(ctx, own(top, 'targets'), refs);

  for (const target of targets) {
    if (target.strategy !== undefined && !strategyNames.has(target.strategy)) {
      fail(ctx, [...target.path, 'strategy'], `strategy '${target.strategy}' is used by target ${target.name} but not defined under strategies${suggest(target.strategy, strategyNames)}`);
    }
  }
  for (const ref of refs) {
    if (!webhookNames.has(ref.name)) {
      fail(ctx, ref.path, `webhook '${ref.name}' is used by ${ref.user} but not defined under webhooks${suggest(ref.name, webhookNames)}`);
    }
  }
  const ordered = orderTargets(ctx, targets, targetNames);
  checkTemplates(ctx, webhooks, refs, [...Object.keys(fileContext), ...Object.keys(options.inputContext)], options.secretNames);
  if (ctx.errors.length > 0 || ordered === undefined) return undefined;

  const plannedTargets: TargetPlan[] = ordered.map(({ target, dependsOn }) => ({
    name: target.name,
    dependsOn,
    commands: { ...commands, ...target.commands },
    beforeDeployment: target.beforeDeployment,
    strategy: target.strategy === undefined ? null : (strategies.get(target.strategy) ?? null),
    afterDeployment: target.afterDeployment,
  }));
  return {
    file: options.file,
    application,
    context: { ...options.inputContext, ...fileContext },
    targets: plannedTargets,
    webhooks: Object.fromEntries([...webhooks].map(([name, w]) => [name, w.def])),
    notices: [...ctx.notices.values()].toSorted((a, b) => a.line - b.line || a.col - b.col).map((n) => n.text),
  };
}

function yamlMessage(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS') return 'the file holds more than one YAML document (a --- line); put everything in one';
  return `YAML syntax error: ${message.split('\n')[0] ?? message}`;
}

function parseAndRead(ctx: Ctx, options: LoadOptions): Plan | undefined {
  const lineCounter = new LineCounter();
  // logLevel 'error': yaml would otherwise print its warnings to the runner's stderr.
  const doc = parseDocument(options.text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true, logLevel: 'error' });
  ctx.locate = makeLocator(doc, lineCounter);
  for (const error of doc.errors) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    ctx.errors.push({ file: ctx.file, line, col, path: '', message: yamlMessage(error.code, error.message) });
  }
  if (ctx.errors.length > 0) return undefined;
  const nodeError = (node: unknown, message: string): void => {
    const { line, col } = lineCounter.linePos(rangeStart(node) ?? 0);
    ctx.errors.push({ file: ctx.file, line, col, path: '', message });
  };
  visit(doc, {
    Alias: (_key, node) => {
      if (node.resolve(doc) === undefined) nodeError(node, `alias *${node.source} has no anchor &${node.source} before it`);
    },
    Pair: (_key, pair) => {
      if (isMap(pair.key) || isSeq(pair.key)) nodeError(pair.key, 'a key must be a plain name, not a list or a map');
    },
  });
  if (ctx.errors.length > 0) return undefined;
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    fail(ctx, [], `cannot read the YAML: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
  return readPlan(ctx, root, options);
}

/** Reads and validates a deployment file; never throws for bad input, returns every error at once. */
export function loadDeploymentFile(options: LoadOptions): LoadResult {
  const ctx: Ctx = { file: options.file, errors: [], notices: new Map(), locate: () => ({ line: 1, col: 1 }) };
  let plan: Plan | undefined;
  try {
    plan = parseAndRead(ctx, options);
  } catch (error) {
    // A bug rather than bad input; still a result, so one odd file cannot crash the action.
    const detail = error instanceof Error ? error.message : String(error);
    ctx.errors.push({ file: ctx.file, line: 1, col: 1, path: '', message: `internal error while reading the file (please report it): ${detail}` });
  }
  if (plan !== undefined && ctx.errors.length === 0) return { ok: true, plan };
  if (ctx.errors.length === 0) ctx.errors.push({ file: ctx.file, line: 1, col: 1, path: '', message: 'the file could not be read' });
  const seen = new Set<string>();
  const errors = ctx.errors
    .filter((e) => {
      const key = formatFileError(e);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.col - b.col);
  return { ok: false, errors };
}
