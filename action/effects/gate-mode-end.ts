/**
 * The post step's part in gate mode: at the end of the job it closes a target the
 * beforeDeployment gate step left `running`, so dependent jobs stop waiting.
 */
import type { GitHubDeployments } from '../clients/github-deployments.ts';
import type { RelayClient } from '../clients/relay.ts';
import { endOfGateModeJob } from '../engine/outcomes.ts';
import type { Log } from '../output/log.ts';

export interface GateModeEnd {
  relay: RelayClient;
  deployments: GitHubDeployments;
  log: Log;
  deploymentId: string;
  target: string;
  attempt: number;
  /** Whether the deployment file gives the target afterDeployment constraints (saved by the main step). */
  hasAfterDeployment: boolean;
}

/** Records the target's end at the relay and on GitHub when this attempt left it `running`; may reject (the caller warns). */
export async function endGateModeTarget(end: GateModeEnd): Promise<void> {
  const { relay, deploymentId, target, attempt } = end;
  const record = await relay.pollTarget(deploymentId, target, 0);
  // Anything else was recorded by a step of this job (failed gates, the afterDeployment step) or by a re-run.
  if (record.status !== 'running' || record.attempt !== attempt) return;
  const { outcome, message } = endOfGateModeJob(target, end.hasAfterDeployment);
  await Promise.all([
    relay.reportTarget({ runId: deploymentId, target, attempt, status: outcome, message }),
    end.deployments.finish(target, outcome, message),
  ]);
  end.log.info(outcome === 'failed' ? `hookgate: ${message}; jobs that depend on ${target} are canceled` : `hookgate: ${message}`);
}
