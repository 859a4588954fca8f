/** The values behind `{{armory.*}}`, `{{hookgate.*}}`, `{{github.*}}`, `{{context.*}}` and `{{secrets.*}}`. */
import type { GitHubContext } from '../settings.ts';

export interface TemplateScope {
  deploymentId: string;
  application: string;
  target: string;
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
    // Kubernetes notions hookgate has no use for; Armory files may still mention them.
    accountName: '',
    namespace: '',
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
