// Top-level fields of Armory's CLI schema: honoured where they mean something to hookgate
// (contextOverrides, deploymentConfig.ifDeploymentInProgress), accepted with a notice where not.
import type { DeploymentQueue } from './plan.ts';
import { z } from 'zod';
import { check, fail, fieldsOf, mapOf, notice, own, suggest } from './fields.ts';
import type { Ctx } from './fields.ts';
import { contextSchema, deploymentConfigSchema, QUEUE_STRATEGIES } from './schemas.ts';
import type { YamlMap } from './schemas.ts';

export const ARMORY_TOP_FIELDS = ['contextOverrides', 'targetFilters', 'files', 'deploymentConfig'];

const KUBERNETES = 'is a Kubernetes field and is ignored';

/** `contextOverrides: {<target>: {key: value}}`, by target; a target the file does not define is an error. */
export function readContextOverrides(ctx: Ctx, value: unknown, targetNames: ReadonlySet<string>): Map<string, Record<string, string>> {
  const overrides = new Map<string, Record<string, string>>();
  if (value === undefined || value === null) return overrides;
  const all = mapOf(ctx, value, ['contextOverrides'], 'target names to context values');
  if (all === undefined) return overrides;
  for (const [target, raw] of Object.entries(all)) {
    const path = ['contextOverrides', target];
    if (!targetNames.has(target)) {
      fail(ctx, path, `target '${target}' is not defined under targets${suggest(target, targetNames)}`, 'key');
      continue;
    }
    const context = check(ctx, contextSchema.nullish(), raw, path);
    if (context) overrides.set(target, context);
  }
  return overrides;
}

/** `deploymentConfig`: the deploy queue it asks for (null: none); its Kubernetes settings get a notice. */
export function readDeploymentConfig(ctx: Ctx, value: unknown): DeploymentQueue | null {
  if (value === undefined || value === null) return null;
  const path = ['deploymentConfig'];
  // Read key by key rather than with the whole schema, so one bad key does not hide another's error.
  const config = fieldsOf(ctx, value, path, Object.keys(deploymentConfigSchema.shape));
  if (config === undefined) return null;
  for (const key of ['timeout', 'keepDeploymentObject']) {
    if (own(config, key) !== undefined) notice(ctx, `deploymentConfig.${key}`, [...path, key], KUBERNETES);
  }
  const raw = own(config, 'ifDeploymentInProgress');
  if (raw === undefined) return null;
  const inProgressPath = [...path, 'ifDeploymentInProgress'];
  const inProgress = raw === null ? {} : fieldsOf(ctx, raw, inProgressPath, ['strategy']);
  if (inProgress === undefined) return null;
  const strategyPath = [...inProgressPath, 'strategy'];
  // Armory's default when the strategy is left out.
  const strategy = check(ctx, z.string().nullish(), own(inProgress, 'strategy'), strategyPath) ?? 'reject';
  const queue = QUEUE_STRATEGIES.find((known) => known === strategy);
  if (queue !== undefined) return queue;
  fail(ctx, strategyPath, `unknown strategy '${strategy}'; use reject (a new deployment fails while one is in progress) or enqueueOne (one waits its turn)${suggest(strategy, QUEUE_STRATEGIES)}`);
  return null;
}

/** Notices for the CLI's fields that mean nothing here. */
export function noticeCliFields(ctx: Ctx, top: YamlMap): void {
  if (own(top, 'files') !== undefined) {
    notice(ctx, 'files', ['files'], "is ignored: Armory's CLI fills it with the manifests it deploys, and hookgate deploys no manifests");
  }
  if (own(top, 'targetFilters') !== undefined) {
    notice(ctx, 'targetFilters', ['targetFilters'], 'is ignored: hookgate deploys every target, or the one the target input names');
  }
}
