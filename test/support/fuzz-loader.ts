/**
 * Running the loader fuzz: the options every case is loaded with, the contract a result must keep,
 * and the loop that loads a range of cases and counts them. The test runs it in plain Node worker
 * threads (it is imported by URL), so: erasable TypeScript only.
 */
import type { LoadOptions } from '../../action/plan/load.ts';
import { isRecord } from './fuzz-random.ts';
import { loaderCase } from './fuzz-yaml.ts';
import type { MutationKind, SeedFile } from './fuzz-yaml.ts';

/** The loader's options. Only the type is imported: each worker thread loads the loader itself, by URL. */
export type LoaderOptions = LoadOptions;
/** The loader, with its result left unknown: checkLoadResult checks the contract on the value itself. */
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
