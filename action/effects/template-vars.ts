/** The values behind `{{armory.*}}`, `{{hookgate.*}}`, `{{github.*}}`, `{{context.*}}` and `{{secrets.*}}`. */
import type { GitHubContext } from '../settings.ts';

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
  return (name) => {
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
