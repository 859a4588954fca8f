// Steps (pause, runWebhook, setWeight) and the lists and strategies made of them.
import { z } from 'zod';
import type { GateItem, Location, Strategy, StrategyStep } from './plan.ts';
import { ANALYSIS_UNSUPPORTED, check, fail, fieldsOf, location, mapOf, notice, own, suggest } from './fields.ts';
import type { Ctx } from './fields.ts';
import { resolveRoles } from './roles.ts';
import { describe, durationSchema, isPlainMap, pauseSchema, runWebhookSchema, setWeightSchema } from './schemas.ts';
import type { Path } from './yaml-locator.ts';

/**
 * When a step runs within its target, for `{{outputs.*}}`: a step sees the outputs of steps of a lower
 * stage only. A constraint or blue/green list is one stage (its items run in parallel); each canary
 * step is its own.
 */
export const STAGE = { beforeDeployment: 0, redirectTrafficAfter: 1, shutDownOldVersionAfter: 2, afterDeployment: Number.MAX_SAFE_INTEGER } as const;

/** One runWebhook step, kept to check its webhook exists and has every context key and output it uses. */
export interface WebhookRef {
  kind: 'webhook';
  name: string;
  /** The step's `runWebhook` key; `path[0..1]` is its target or strategy. */
  path: Path;
  /** Who uses the webhook, for messages: `target prod` or `strategy canary`. */
  user: string;
  /** The keys of the step's own context. */
  contextKeys: string[];
  stage: number;
}

/** A `pause: {untilApproved: true}` step: its decision is `{{outputs.approval.*}}` for later steps. */
export interface ApprovalRef {
  kind: 'approval';
  path: Path;
  stage: number;
}

export type StepRef = WebhookRef | ApprovalRef;

/** The stage of the step at `path` (its list, then its index), in a list of the given kind. */
function stageOf(where: Where, path: Path): number {
  const list = path.at(-2);
  const index = path.at(-1);
  if (where === 'canary') return 1 + (typeof index === 'number' ? index : 0);
  if (list === 'beforeDeployment') return STAGE.beforeDeployment;
  if (list === 'redirectTrafficAfter') return STAGE.redirectTrafficAfter;
  if (list === 'afterDeployment') return STAGE.afterDeployment;
  return STAGE.shutDownOldVersionAfter;
}

/** Which list a step is in: it decides the step kinds allowed. */
export type Where = 'constraint' | 'canary' | 'blueGreen';

const BLUE_GREEN_FIELDS = ['activeService', 'previewService', 'redirectTrafficAfter', 'shutDownOldVersionAfter', 'shutdownOldVersionAfter'];

type Pause = z.output<typeof pauseSchema>;

/** A pause with `untilApproved: true`: who may decide (its roles through `roles:`), how many, self-review. */
function readApproval(ctx: Ctx, pause: Pause, path: Path, at: Location): GateItem | undefined {
  if (pause.requiresRoles !== undefined && pause.requiresRole !== undefined) {
    fail(ctx, [...path, 'requiresRole'], 'give either requiresRoles or requiresRole, not both', 'key');
    return undefined;
  }
  const rolesKey = pause.requiresRoles !== undefined ? 'requiresRoles' : 'requiresRole';
  const written = pause[rolesKey] ?? [];
  const roles = typeof written === 'string' ? [written] : written;
  const { approvers, ownerTeams } = resolveRoles(ctx, roles, [...path, rolesKey], typeof written === 'string');
  const minimumApprovals = pause.minimumApprovals ?? 1;
  // Only people listed, no team: fewer of them than the approvals needed could never decide.
  if (ownerTeams.length === 0 && approvers.length > 0 && approvers.length < minimumApprovals && approvers.every((a) => !a.startsWith('@'))) {
    fail(ctx, [...path, 'minimumApprovals'], `needs ${minimumApprovals} approvals, but its roles name only ${approvers.length} people and no team`);
  }
  return {
    kind: 'approval',
    expirationSeconds: pause.approvalExpiration ?? null,
    roles,
    approvers,
    ownerTeams,
    minimumApprovals,
    preventSelfReview: pause.preventSelfReview ?? false,
    location: at,
  };
}

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
  if (pause.untilApproved === true) return readApproval(ctx, pause, path, at);
  const approvalOnly = (['approvalExpiration', 'requiresRoles', 'requiresRole', 'minimumApprovals', 'preventSelfReview'] as const).filter((k) => pause[k] !== undefined);
  for (const key of approvalOnly) fail(ctx, [...path, key], 'only applies to a pause with untilApproved: true', 'key');
  if (!timed) {
    fail(ctx, path, 'a pause needs duration and unit, or untilApproved: true');
    return undefined;
  }
  const timedPart = Object.fromEntries(Object.entries({ duration: pause.duration, unit: pause.unit, units: pause.units }).filter(([, v]) => v !== undefined));
  const seconds = check(ctx, durationSchema, timedPart, path);
  return seconds === undefined || approvalOnly.length > 0 ? undefined : { kind: 'pause', seconds, location: at };
}

function readStep(ctx: Ctx, item: unknown, path: Path, user: string, where: Where, refs: StepRef[]): StrategyStep | undefined {
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
    case 'pause': {
      const pause = readPause(ctx, body, at, here);
      if (pause?.kind === 'approval') refs.push({ kind: 'approval', path: at, stage: stageOf(where, path) });
      return pause;
    }
    case 'runWebhook': {
      const step = check(ctx, runWebhookSchema, body, at);
      if (step === undefined) return undefined;
      const context = step.context ?? {};
      refs.push({ kind: 'webhook', name: step.name, path: at, user, contextKeys: Object.keys(context), stage: stageOf(where, path) });
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

function readSteps(ctx: Ctx, value: unknown, path: Path, user: string, where: Where, refs: StepRef[]): StrategyStep[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    fail(ctx, path, `expected a list of steps, got ${describe(value)}`);
    return [];
  }
  return value.flatMap((item: unknown, i) => readStep(ctx, item, [...path, i], user, where, refs) ?? []);
}

/** A list of pause and runWebhook items (constraints, blue/green lists); every runWebhook and approval lands in `refs`. */
export function readGates(ctx: Ctx, value: unknown, path: Path, user: string, where: Where, refs: StepRef[]): GateItem[] {
  return readSteps(ctx, value, path, user, where, refs).filter((s): s is GateItem => s.kind !== 'setWeight');
}

/** The `strategies` map, valid strategies only; every runWebhook and approval step lands in `refs`. */
export function readStrategies(ctx: Ctx, value: unknown, refs: StepRef[]): Map<string, Strategy> {
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
