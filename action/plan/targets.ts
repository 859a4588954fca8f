// The `targets` map and the run order its dependsOn lists give.
import type { Commands, GateItem } from './plan.ts';
import { check, fail, fieldsOf, mapOf, own, suggest } from './fields.ts';
import type { Ctx } from './fields.ts';
import { commandsSchema, dependsOnSchema, nonEmpty } from './schemas.ts';
import { readGates } from './steps.ts';
import type { StepRef } from './steps.ts';
import type { Path } from './yaml-locator.ts';

/** A target as written, before its strategy name and dependencies are checked against the rest of the file. */
export interface ParsedTarget {
  name: string;
  path: Path;
  strategy: string | undefined;
  commands: Commands;
  dependsOn: { name: string; path: Path }[];
  beforeDeployment: GateItem[];
  afterDeployment: GateItem[];
  account: string | undefined;
  namespace: string | undefined;
}

/** `account` and `namespace` (Armory's Kubernetes cluster and namespace) only feed `{{armory.accountName}}` and `{{armory.namespace}}`. */
const TARGET_FIELDS = ['strategy', 'constraints', 'commands', 'account', 'namespace'];
const CONSTRAINT_FIELDS = ['dependsOn', 'beforeDeployment', 'afterDeployment'];

/** The `targets` map in file order, with the names of all targets, valid or not; every runWebhook and approval lands in `refs`. */
export function readTargets(ctx: Ctx, value: unknown, refs: StepRef[]): { targets: ParsedTarget[]; names: Set<string> } {
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
      account: check(ctx, nonEmpty.optional(), own(fields, 'account'), [...path, 'account']),
      namespace: check(ctx, nonEmpty.optional(), own(fields, 'namespace'), [...path, 'namespace']),
    });
  }
  return { targets, names: new Set(Object.keys(all)) };
}

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
export function orderTargets(ctx: Ctx, targets: readonly ParsedTarget[], names: ReadonlySet<string>): { target: ParsedTarget; dependsOn: string[] }[] | undefined {
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
