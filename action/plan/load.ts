import { isMap, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document } from 'yaml';
import { errorMessage } from '../lib/errors.ts';
import type { Plan, TargetPlan } from './plan.ts';
import { ARMORY_TOP_FIELDS, noticeCliFields, readContextOverrides, readDeploymentConfig } from './armory.ts';
import { check, fail, fieldsOf, own, suggest } from './fields.ts';
import type { Ctx, FileError } from './fields.ts';
import { commandsSchema, contextSchema, describe, isPlainMap, nonEmpty } from './schemas.ts';
import { readRoles } from './roles.ts';
import { readStrategies } from './steps.ts';
import type { StepRef } from './steps.ts';
import { orderTargets, readTargets } from './targets.ts';
import { checkWebhook } from './templates.ts';
import type { TemplateUses } from './templates.ts';
import { checkUses } from './uses.ts';
import { readWebhooks } from './webhooks.ts';
import type { BodyRead } from './webhooks.ts';
import { makeLocator, rangeStart, resolveAliases } from './yaml-locator.ts';

export type { FileError } from './fields.ts';

export interface LoadOptions {
  /** The path shown in errors (`readFile` resolves `bodyTemplate.path` against its directory). */
  file: string;
  text: string;
  secretNames: ReadonlySet<string>;
  inputContext: Record<string, string>;
  defaultApplication: string;
  /**
   * Reads a `bodyTemplate.path` exactly as written, relative to the deployment file's directory;
   * what it throws becomes an error at that field. The plan itself never touches the file system.
   */
  readFile: (path: string) => string;
}

export type LoadResult = { ok: true; plan: Plan } | { ok: false; errors: FileError[] };

// Far above any real file, far below what an alias bomb expands to.
const MAX_ALIAS_COUNT = 10_000;
// yaml resolves each alias by scanning every alias before it: 10,000 aliases cost seconds.
const MAX_ALIASES = 1_000;
const TOP_FIELDS = ['version', 'application', 'context', 'commands', 'roles', 'targets', 'strategies', 'webhooks', ...ARMORY_TOP_FIELDS];

/** Formats a FileError as `file:line:col: path: message`, the shape of a GitHub annotation's text. */
export function formatFileError(e: FileError): string {
  return `${e.file}:${e.line}:${e.col}: ${e.path === '' ? '' : `${e.path}: `}${e.message}`;
}

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
  ctx.roles = readRoles(ctx, own(top, 'roles'));

  const readBody = (path: string): BodyRead => {
    try {
      const text: unknown = options.readFile(path);
      return typeof text === 'string' ? { ok: true, text } : { ok: false, message: `cannot read ${path}` };
    } catch (error) {
      return { ok: false, message: `cannot read ${path} (relative to the deployment file): ${errorMessage(error)}` };
    }
  };

  const refs: StepRef[] = [];
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
    if (ref.kind === 'webhook' && !webhookNames.has(ref.name)) {
      fail(ctx, [...ref.path, 'name'], `webhook '${ref.name}' is used by ${ref.user} but not defined under webhooks${suggest(ref.name, webhookNames)}`);
    }
  }
  const ordered = orderTargets(ctx, targets, targetNames);
  const overrides = readContextOverrides(ctx, own(top, 'contextOverrides'), targetNames);
  const deploymentQueue = readDeploymentConfig(ctx, own(top, 'deploymentConfig'));
  noticeCliFields(ctx, top);
  const names = {
    secretNames: options.secretNames,
    webhookNames,
    noCallback: new Set([...webhooks.values()].filter((w) => w.def.disableCallback).map((w) => w.def.name)),
  };
  const uses = new Map<string, TemplateUses>([...webhooks].map(([name, webhook]) => [name, checkWebhook(ctx, webhook, names)]));
  const scopes = targets.map((t) => ({ name: t.name, strategy: t.strategy, overrideKeys: new Set(Object.keys(overrides.get(t.name) ?? {})) }));
  checkUses(ctx, uses, refs, scopes, new Set([...Object.keys(fileContext), ...Object.keys(options.inputContext)]));
  if (ctx.errors.length > 0 || ordered === undefined) return undefined;

  const plannedTargets: TargetPlan[] = ordered.map(({ target, dependsOn }) => {
    const context = overrides.get(target.name);
    return {
      name: target.name,
      dependsOn,
      commands: { ...commands, ...target.commands },
      beforeDeployment: target.beforeDeployment,
      strategy: target.strategy === undefined ? null : (strategies.get(target.strategy) ?? null),
      afterDeployment: target.afterDeployment,
      ...(target.account === undefined ? {} : { account: target.account }),
      ...(target.namespace === undefined ? {} : { namespace: target.namespace }),
      ...(context === undefined ? {} : { context }),
    };
  });
  return {
    file: options.file,
    application,
    context: { ...options.inputContext, ...fileContext },
    targets: plannedTargets,
    webhooks: Object.fromEntries([...webhooks].map(([name, w]) => [name, w.def])),
    deploymentQueue,
    notices: [...ctx.notices.values()].toSorted((a, b) => a.line - b.line || a.col - b.col).map((n) => n.text),
  };
}

const TOO_DEEP = 'the file nests too deeply to be read (thousands of levels of lists or maps)';

function yamlMessage(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS') return 'the file holds more than one YAML document (a --- line); put everything in one';
  // yaml catches its composer's stack overflow and reports it as an error of its own.
  if (message.startsWith('Maximum call stack size exceeded')) return TOO_DEEP;
  const first = message.split('\n')[0] ?? message;
  // `@` cannot start a plain YAML value: a team under roles: must be quoted.
  if (first.includes('reserved character @')) return `YAML syntax error: ${first}; put a team in quotes: "@acme/release-team"`;
  return `YAML syntax error: ${first}`;
}

/**
 * Line starts taken from the text itself. yaml's own LineCounter is fed by its parser, which skips
 * the line breaks inside tokens it drops while recovering from an error: every position after
 * one landed on an earlier line, past its end.
 */
function countLines(text: string): LineCounter {
  const counter = new LineCounter();
  counter.addNewLine(0);
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) counter.addNewLine(at + 1);
  return counter;
}

function parseAndRead(ctx: Ctx, options: LoadOptions): Plan | undefined {
  const lineCounter = countLines(options.text);
  // logLevel 'error': yaml would otherwise print its warnings to the runner's stderr.
  let doc: Document;
  try {
    doc = parseDocument(options.text, { prettyErrors: false, merge: true, uniqueKeys: true, logLevel: 'error' });
  } catch (error) {
    // yaml's parser recurses once per level of nesting; with less stack than the main thread has
    // (a worker thread), a few thousand levels overflow it before its composer can catch that.
    if (!(error instanceof RangeError)) throw error;
    fail(ctx, [], TOO_DEEP);
    return undefined;
  }
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
  const aliases = resolveAliases(doc);
  for (const [alias, target] of aliases) {
    if (target === undefined) nodeError(alias, `alias *${alias.source} has no anchor &${alias.source} before it`);
  }
  const beyond = [...aliases.keys()][MAX_ALIASES];
  if (beyond !== undefined) nodeError(beyond, `the file has more than ${MAX_ALIASES} aliases (*name); no deployment file needs that many`);
  visit(doc, {
    Pair: (_key, pair) => {
      if (isMap(pair.key) || isSeq(pair.key)) nodeError(pair.key, 'a key must be a plain name, not a list or a map');
    },
  });
  if (ctx.errors.length > 0) return undefined;
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    fail(ctx, [], `cannot read the YAML: ${errorMessage(error)}`);
    return undefined;
  }
  return readPlan(ctx, root, options);
}

/** Reads and validates a deployment file; never throws for bad input, returns every error at once. */
export function loadDeploymentFile(options: LoadOptions): LoadResult {
  const ctx: Ctx = { file: options.file, errors: [], notices: new Map(), locate: () => ({ line: 1, col: 1 }), roles: new Map() };
  let plan: Plan | undefined;
  try {
    plan = parseAndRead(ctx, options);
  } catch (error) {
    // A bug rather than bad input; still a result, so one odd file cannot crash the action.
    const detail = errorMessage(error);
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
