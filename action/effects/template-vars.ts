/** The values behind `{{armory.*}}`, `{{hookgate.*}}`, `{{github.*}}`, `{{context.*}}`, `{{secrets.*}}` and `{{outputs.*}}`. */
import type { Outputs } from '../../shared/protocol.ts';
import type { RequestTemplate, WebhookDef } from '../plan/plan.ts';
import { OUTPUTS_PREFIX, outputName, parseTemplate } from '../plan/template.ts';
import type { GitHubContext } from '../settings.ts';

/** A target's outputs so far: by step name (`approval` for approvals), what each ended step's decision handed on. */
export type StepOutputs = ReadonlyMap<string, Outputs>;

export interface TemplateScope {
  deploymentId: string;
  application: string;
  target: string;
  /** The target's Armory `account` and `namespace`, when the file gives them. */
  account?: string | undefined;
  namespace?: string | undefined;
  callbackUri: string;
  approvalUrl: string;
  github: GitHubContext;
  /** Step context over file context over the `context` input (SPEC §2). */
  context: Record<string, string>;
  secrets: Record<string, string>;
  /** The target's ended steps' outputs, for `{{outputs.<step>.<key>}}`; none when absent. */
  outputs?: StepOutputs;
}

/** A resolver for `renderTemplate`; undefined for an unknown name. */
export function templateResolver(scope: TemplateScope): (name: string) => string | undefined {
  const common: Record<string, string> = {
    callbackUri: scope.callbackUri,
    deploymentId: scope.deploymentId,
    applicationName: scope.application,
    environmentName: scope.target,
    // Kubernetes notions hookgate deploys nothing to; Armory files still send them to their webhooks.
    accountName: scope.account ?? '',
    namespace: scope.namespace ?? '',
    replicaSetName: replicaSetName(scope.application, scope.github),
  };
  const hookgate: Record<string, string> = { ...common, approvalUrl: scope.approvalUrl, runUrl: scope.github.runUrl };
  const github: Record<string, string> = {
    repository: scope.github.repository,
    sha: scope.github.sha,
    ref: scope.github.ref,
    runId: scope.github.runId,
    runAttempt: scope.github.runAttempt,
    actor: scope.github.actor,
  };
  const namespaces: Record<string, Record<string, string>> = {
    armory: common,
    hookgate,
    github,
    context: scope.context,
    secrets: scope.secrets,
  };
  const outputs = scope.outputs ?? new Map<string, Outputs>();
  return (name) => {
    const ref = outputName(name);
    if (ref) {
      const carried = outputs.get(ref.step);
      // Outside text: never templated again (renderTemplate is one pass), and escaped for where it
      // lands by renderTemplate's placement (percent-encoded in a URL, JSON-escaped in a JSON body).
      return carried && Object.hasOwn(carried, ref.key) ? String(carried[ref.key]) : undefined;
    }
    const dot = name.indexOf('.');
    if (dot < 0) return undefined;
    const prefix = name.slice(0, dot);
    const space = Object.hasOwn(namespaces, prefix) ? namespaces[prefix] : undefined;
    const key = name.slice(dot + 1);
    return space && Object.hasOwn(space, key) ? space[key] : undefined;
  };
}

/**
 * `{{armory.replicaSetName}}`: Armory's name of the new version's ReplicaSet. hookgate creates none,
 * so it renders a name stable for the commit, as a ReplicaSet's is for its manifest:
 * `<application>-<the commit SHA's first 10 characters>` (`<application>-<run id>` without a SHA).
 */
function replicaSetName(application: string, github: GitHubContext): string {
  return `${application}-${github.sha ? github.sha.slice(0, 10) : github.runId}`;
}

/**
 * Why the webhook's templates cannot be rendered from the target's outputs so far: the first
 * `{{outputs.<step>.<key>}}` no ended step carried, with how to fix it; null when all can.
 */
export function missingOutput(def: WebhookDef, target: string, outputs: StepOutputs): string | null {
  for (const name of templateNamesOf(def)) {
    const ref = outputName(name);
    if (ref === null) {
      if (name.startsWith(OUTPUTS_PREFIX)) return `{{${name}}}: write it as {{outputs.<webhook name or approval>.<key>}}`;
      continue;
    }
    const carried = outputs.get(ref.step);
    if (carried === undefined) {
      return `{{${name}}}: no step named ${ref.step} ended before this one in target ${target}, so there is no output to use (outputs come from an earlier step of the same target)`;
    }
    if (!Object.hasOwn(carried, ref.key)) {
      const keys = Object.keys(carried);
      return `{{${name}}}: the decision of ${ref.step} carried no output '${ref.key}' (it carried: ${keys.length > 0 ? keys.join(', ') : 'none'})`;
    }
  }
  return null;
}

/** Every variable name the webhook's requests use: the call, its cancelTemplate and its monitor. */
function templateNamesOf(def: WebhookDef): string[] {
  const requests: RequestTemplate[] = [def, ...(def.cancel ? [def.cancel] : []), ...(def.monitor ? [def.monitor] : [])];
  const texts = requests.flatMap((r) => [r.uriTemplate, ...r.headers.map((h) => h.value), ...(r.bodyTemplate === null ? [] : [r.bodyTemplate])]);
  if (def.monitor) texts.push(def.monitor.statusPath);
  return texts.flatMap((text) => {
    const parsed = parseTemplate(text);
    return parsed.ok ? parsed.names : [];
  });
}
