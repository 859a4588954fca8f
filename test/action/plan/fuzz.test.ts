/**
 * Fuzzing the deployment-file loader (action/plan/load.ts): ≥ 10,000 mutated files from the
 * real seeds must each end as a plan or as errors with file, line and column — never a throw,
 * never a hang, never a line printed. The cases run in two worker threads (this machine has two
 * cores), so a case that never returns is named when the test times out.
 *
 * Replay: HOOKGATE_FUZZ_SEED=<seed> HOOKGATE_FUZZ_CASE=<index> runs one case and prints it;
 * HOOKGATE_FUZZ_CASES=<n> changes how many run.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, onTestFailed, onTestFinished } from 'vitest';
import { formatFileError, loadDeploymentFile } from '../../../action/plan/load.ts';
import { checkLoadResult, FUZZ_FILE, loaderOptions, runLoaderCases } from '../../support/fuzz-loader.ts';
import type { KindCount, LoaderFuzzSummary } from '../../support/fuzz-loader.ts';
import { fuzzSeed } from '../../support/fuzz-random.ts';
import { deriveSeeds, loaderCase } from '../../support/fuzz-yaml.ts';
import type { SeedFile } from '../../support/fuzz-yaml.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SEED = fuzzSeed(process.env.HOOKGATE_FUZZ_SEED, 20_261_117);
const CASES = Number(process.env.HOOKGATE_FUZZ_CASES ?? '10000');
const REPLAY = process.env.HOOKGATE_FUZZ_CASE;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    // GitHub workflow files (examples/workflows) show how to run the action; they are no deployment files.
    if (statSync(path).isDirectory()) return name === 'workflows' ? [] : yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

/** test/fixtures/*.yml, test/fixtures/armory/*.yml and examples/**\/*.yml but workflows, plus the smaller seeds cut from them. */
function loadSeeds(): { full: SeedFile[]; all: SeedFile[] } {
  const paths = [...yamlFiles(join(ROOT, 'test', 'fixtures')), ...yamlFiles(join(ROOT, 'examples'))].sort();
  const full = paths.map((path) => ({ name: relative(ROOT, path), text: readFileSync(path, 'utf8') }));
  return { full, all: [...full, ...full.flatMap(deriveSeeds)] };
}

const seeds = loadSeeds();

// Plain Node in the worker: it loads the TypeScript sources with Node's own type stripping.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const fuzz = await import(workerData.fuzzUrl);
  const loader = await import(workerData.loaderUrl);
  const progress = new Int32Array(workerData.progress);
  const summary = fuzz.runLoaderCases(loader.loadDeploymentFile, { ...workerData.params, progress });
  parentPort.postMessage({ summary });
})().catch((error) => parentPort.postMessage({ error: String((error && error.stack) || error) }));
`;

function runInWorker(from: number, to: number, progress: SharedArrayBuffer, workers: Worker[]): Promise<LoaderFuzzSummary> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        fuzzUrl: pathToFileURL(join(ROOT, 'test', 'support', 'fuzz-loader.ts')).href,
        loaderUrl: pathToFileURL(join(ROOT, 'action', 'plan', 'load.ts')).href,
        params: { seed: SEED, from, to, seeds: seeds.all },
        progress,
      },
      // About the main thread's stack (Node's default --stack-size is 984 KB), where the action runs.
      resourceLimits: { stackSizeMb: 1 },
    });
    workers.push(worker);
    worker.once('message', (message: { summary?: LoaderFuzzSummary; error?: string }) => {
      if (message.summary) resolve(message.summary);
      else reject(new Error(`the fuzz worker failed: ${message.error ?? 'no answer'}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the fuzz worker exited with ${code} before answering`)));
  });
}

function merge(parts: LoaderFuzzSummary[]): LoaderFuzzSummary & { slowestMs: number } {
  const byKind: Record<string, KindCount> = {};
  for (const part of parts) {
    for (const [kind, count] of Object.entries(part.byKind)) {
      const into = (byKind[kind] ??= { total: 0, valid: 0, invalid: 0 });
      into.total += count.total;
      into.valid += count.valid;
      into.invalid += count.invalid;
    }
  }
  const sum = (pick: (s: LoaderFuzzSummary) => number): number => parts.reduce((n, s) => n + pick(s), 0);
  const slowest = parts.flatMap((p) => p.slowest).sort((a, b) => b.ms - a.ms).slice(0, 5);
  return {
    total: sum((s) => s.total),
    valid: sum((s) => s.valid),
    invalid: sum((s) => s.invalid),
    byKind,
    failures: parts.flatMap((p) => p.failures),
    failureCount: sum((s) => s.failureCount),
    printed: parts.flatMap((p) => p.printed),
    slowest,
    slowestMs: slowest[0]?.ms ?? 0,
    totalChars: sum((s) => s.totalChars),
    elapsedMs: Math.max(...parts.map((p) => p.elapsedMs)),
    cpuMs: parts.every((p) => p.cpuMs !== null) ? sum((s) => s.cpuMs ?? 0) : null,
  };
}

function report(summary: ReturnType<typeof merge>, wallMs: number, threads: number): string {
  const rows = Object.entries(summary.byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, c]) => `  ${kind.padEnd(18)} ${String(c.total).padStart(6)} ${String(c.valid).padStart(6)} ${String(c.invalid).padStart(7)}`);
  return [
    `deployment-file fuzz: seed ${SEED}, ${summary.total} files (${(summary.totalChars / 1e6).toFixed(1)} M chars) from ${seeds.full.length} seed files (+${seeds.all.length - seeds.full.length} cut from them)`,
    `  valid ${summary.valid}, invalid ${summary.invalid}, contract broken ${summary.failureCount}; wall ${(wallMs / 1000).toFixed(1)} s on ${threads} worker thread(s)${summary.cpuMs === null ? '' : `, ${(summary.cpuMs / 1000).toFixed(1)} s CPU (${(summary.cpuMs / summary.total).toFixed(2)} ms a case)`}`,
    `  slowest cases: ${summary.slowest.map((s) => `#${s.index} ${s.kinds.join('+')} ${s.ms.toFixed(0)} ms (${s.length} chars)`).join('; ')}`,
    `  ${'kind'.padEnd(18)} ${'cases'.padStart(6)} ${'valid'.padStart(6)} ${'invalid'.padStart(7)}   (a stacked case counts under each of its kinds)`,
    ...rows,
  ].join('\n');
}

describe('loadDeploymentFile under fuzzing', () => {
  it('starts from seeds the loader accepts (all but the SPEC excerpt, which leaves its webhooks out)', () => {
    const rejected = seeds.all.filter((seed) => !(loadDeploymentFile(loaderOptions(seeds.all, seed.text)) as { ok: boolean }).ok);
    expect(rejected.map((s) => s.name).filter((name) => !name.startsWith('test/fixtures/spec-example.yml'))).toEqual([]);
    expect(seeds.full.length).toBeGreaterThanOrEqual(4);
    expect(seeds.all.length).toBeGreaterThan(seeds.full.length);
  });

  // A replay (HOOKGATE_FUZZ_CASE) defines only the replay: no test is ever skipped.
  if (REPLAY === undefined) it(
    `ends each of ${CASES} mutated files as a plan or as errors with file, line and column`,
    async () => {
      const threads = Math.max(1, Math.min(2, availableParallelism()));
      const workers: Worker[] = [];
      const progress = Array.from({ length: threads }, () => new SharedArrayBuffer(4));
      onTestFinished(async () => {
        await Promise.all(workers.map((w) => w.terminate()));
      });
      onTestFailed(() => {
        // A timeout lands here: name the case each worker was stuck in.
        progress.forEach((buffer, i) => {
          const index = new Int32Array(buffer)[0] ?? 0;
          const c = loaderCase(seeds.all, SEED, index);
          console.error(`worker ${i} was at case ${index} (HOOKGATE_FUZZ_SEED=${SEED} HOOKGATE_FUZZ_CASE=${index}): ${c.seedName} ${c.kinds.join('+')}, ${c.text.length} chars`);
        });
      });

      const started = performance.now();
      const share = Math.ceil(CASES / threads);
      const parts = await Promise.all(
        progress.map((buffer, i) => runInWorker(i * share, Math.min(CASES, (i + 1) * share), buffer, workers)),
      );
      const summary = merge(parts);
      console.log(report(summary, performance.now() - started, threads));

      const failures = summary.failures.map(
        (f) => `case ${f.index} (HOOKGATE_FUZZ_SEED=${SEED} HOOKGATE_FUZZ_CASE=${f.index}) ${f.seedName} ${f.kinds.join('+')}: ${f.problem}\n    text (${f.length} chars): ${f.excerpt}`,
      );
      expect(failures, failures.join('\n')).toEqual([]);
      expect(summary.failureCount).toBe(0);
      expect(summary.printed).toEqual([]);
      expect(summary.total).toBe(CASES);
      // Both outcomes must be reached, or the mutations say nothing about one of them.
      expect(summary.valid).toBeGreaterThan(0);
      expect(summary.invalid).toBeGreaterThan(0);
    },
    600_000,
  );

  else it('replays one case', () => {
    const c = loaderCase(seeds.all, SEED, Number(REPLAY));
    console.log(`case ${c.index}: ${c.seedName} ${c.kinds.join('+')}\n--- text (${c.text.length} chars) ---\n${c.text.slice(0, 20_000)}\n---`);
    const result = runLoaderCases(loadDeploymentFile, { seed: SEED, from: c.index, to: c.index + 1, seeds: seeds.all });
    const loaded = loadDeploymentFile(loaderOptions(seeds.all, c.text));
    console.log(loaded.ok ? 'a plan' : loaded.errors.map(formatFileError).join('\n'));
    expect(result.failures).toEqual([]);
  });
});

describe('loadDeploymentFile on the shapes the fuzzing found', () => {
  const load = (text: string) => loadDeploymentFile(loaderOptions(seeds.all, text));
  const aliases = (count: number): string =>
    `targets:\n  a:\n    constraints:\n      dependsOn: &d [b]\n  b:\n    constraints:\n      beforeDeployment: [${Array(count).fill('*d').join(', ')}]\n`;

  it('refuses a file of more than 1000 aliases at the first one past the limit', () => {
    // Each alias used to walk the whole document: 16,000 of them took over a minute.
    const result = load(aliases(16_000));
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors.map(formatFileError);
    // Line 7 is `      beforeDeployment: [*d, *d, …`: the 1001st alias starts at column 26 + 1000 × 4.
    const column = 26 + 1000 * 4;
    expect(errors).toEqual([`${FUZZ_FILE}:7:${column}: the file has more than 1000 aliases (*name); no deployment file needs that many`]);
  });

  it('reads a file of 1000 aliases as any other: each is checked where it is', () => {
    const result = load(aliases(1000));
    expect(result.ok).toBe(false);
    // Every alias is a list where a step belongs: one error each, at the alias.
    const steps = (result.ok ? [] : result.errors).filter((e) => e.message.startsWith('expected a step'));
    expect(steps).toHaveLength(1000);
    expect(steps.map((e) => `${e.line}:${e.col}`)).toEqual(Array.from({ length: 1000 }, (_, i) => `7:${26 + 4 * i}`));
  });

  it('places errors after a dropped block scalar on their own line, not past the end of an earlier one', () => {
    // yaml's LineCounter missed the line break inside a block scalar its parser dropped while
    // recovering: `c` was reported at 5:17, past the end of line 5.
    const text = 'a: 1\n}\nb:\n  inline: |\n    text here\n  c: true\n';
    const result = load(text);
    expect(result.ok ? [] : result.errors.map(formatFileError)).toContain(`${FUZZ_FILE}:6:3: YAML syntax error: Unexpected scalar token in YAML stream: "c"`);
    expect(checkLoadResult(result, text)).toBeNull();
  });
});
