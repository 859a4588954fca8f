// Checks per runWebhook step: what its webhook's templates read must exist when that step runs.
// `{{context.*}}` keys (step over target overrides over file over input, SPEC §2) and `{{outputs.*}}`
// (from a step of the same target that ends before this one) differ by step and by target, and a
// strategy's steps run in every target that uses it, so each is checked for each of those targets.
import { fail, suggest } from './fields.ts';
import type { Ctx } from './fields.ts';
import type { StepRef, WebhookRef } from './steps.ts';
import { APPROVAL_STEP } from './template.ts';
import type { TemplateUses } from './templates.ts';

/** A target as far as the checks of its steps need it. */
export interface TargetScope {
  name: string;
  strategy: string | undefined;
  /** The keys of its `contextOverrides` entry. */
  overrideKeys: ReadonlySet<string>;
}

function listed(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`;
}

/** Whether a step at `path` runs in the target: it is in the target's constraints or in its strategy. */
function runsIn(path: StepRef['path'], target: TargetScope): boolean {
  const [section, owner] = path;
  return section === 'targets' ? owner === target.name : target.strategy !== undefined && owner === target.strategy;
}

function checkContext(ctx: Ctx, ref: WebhookRef, uses: TemplateUses, targets: readonly TargetScope[], baseContextKeys: ReadonlySet<string>): void {
  const stepKeys = new Set(ref.contextKeys);
  for (const [key, fields] of uses.context) {
    if (stepKeys.has(key) || baseContextKeys.has(key)) continue;
    const missing = targets.filter((t) => !t.overrideKeys.has(key));
    const head = `webhook '${ref.name}' uses {{context.${key}}} in ${listed(fields)}, but`;
    if (targets.length === 0 || missing.length === targets.length) {
      const hint = suggest(key, [...stepKeys, ...baseContextKeys, ...targets.flatMap((t) => [...t.overrideKeys])]);
      fail(ctx, ref.path, `${head} neither this step's context, the file's context${targets.some((t) => t.overrideKeys.size > 0) ? ', contextOverrides' : ''} nor the context input sets ${key}${hint}`, 'key');
      continue;
    }
    const setting = targets.filter((t) => t.overrideKeys.has(key)).map((t) => t.name);
    for (const target of missing) {
      fail(ctx, ref.path, `${head} for target ${target.name} neither this step's context, the file's context, contextOverrides.${target.name} nor the context input sets ${key} (contextOverrides sets it for ${listed(setting)} only)`, 'key');
    }
  }
}

/** Whether `producer` is the step `step` names: the webhook of that name, or an approval. */
function produces(producer: StepRef, step: string): boolean {
  return step === APPROVAL_STEP ? producer.kind === 'approval' : producer.kind === 'webhook' && producer.name === step;
}

function checkOutputs(ctx: Ctx, ref: WebhookRef, uses: TemplateUses, targets: readonly TargetScope[], refs: readonly StepRef[]): void {
  for (const [variable, { step, fields }] of uses.outputs) {
    for (const target of targets) {
      const producers = refs.filter((r) => produces(r, step) && runsIn(r.path, target));
      if (producers.some((p) => p.stage < ref.stage)) continue;
      const what = step === APPROVAL_STEP ? 'is a pause with untilApproved: true' : `runs webhook ${step}`;
      const why = producers.some((p) => p.stage === ref.stage) ? ' (items of one list run in parallel)' : producers.length > 0 ? ' (it runs only after this one)' : '';
      fail(ctx, ref.path, `webhook '${ref.name}' uses {{${variable}}} in ${listed(fields)}, but no step of target ${target.name} before this one ${what}${why}`, 'key');
    }
  }
}

/**
 * Checks, at each runWebhook step, the context keys and outputs its webhook uses, for each target
 * the step runs in. A step of a strategy no target uses has its context keys checked against the
 * file's and the input's only, and its outputs not at all: no run of it exists.
 */
export function checkUses(ctx: Ctx, uses: ReadonlyMap<string, TemplateUses>, refs: readonly StepRef[], targets: readonly TargetScope[], baseContextKeys: ReadonlySet<string>): void {
  for (const ref of refs) {
    if (ref.kind !== 'webhook') continue;
    const used = uses.get(ref.name);
    if (used === undefined) continue;
    const scope = targets.filter((t) => runsIn(ref.path, t));
    checkContext(ctx, ref, used, scope, baseContextKeys);
    checkOutputs(ctx, ref, used, scope, refs);
  }
}
