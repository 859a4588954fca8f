/**
 * The post step, at the end of the job. When the main step did not finish (the
 * job was canceled), it cancels the pending gates. After a beforeDeployment gate
 * step, it closes a target the job left `running` because the afterDeployment
 * step never ran (a deploy step in between failed), so dependent jobs stop waiting.
 */
import * as core from '@actions/core';
import { createRedactor } from './redact.ts';
import { RelayClient } from './relay-client.ts';
import { INPUTS, STATE } from './settings.ts';

/** Cleanup never fails the job: problems become warnings. */
export async function post(): Promise<void> {
  const deploymentId = core.getState(STATE.deploymentId);
  if (!deploymentId) return;
  const finished = core.getState(STATE.finished) === 'true';
  const target = core.getState(STATE.target) || undefined;
  if (finished && !(target && core.getState(STATE.phase) === 'beforeDeployment')) return;

  const token = core.getInput(INPUTS.relayToken);
  const redact = createRedactor([token]);
  const relay = new RelayClient({ baseUrl: core.getInput(INPUTS.relayUrl), token });
  try {
    if (!finished) {
      // One job per environment: this job cancels only its own target's gates.
      const { canceled } = await relay.cancel({ runId: deploymentId, reason: 'the workflow job was canceled', ...(target ? { target } : {}) });
      const scope = target ? `target ${target} of ${deploymentId}` : deploymentId;
      core.info(`hookgate: canceled ${canceled.length} pending gate(s) of ${scope}; late callbacks get 410`);
    } else if (target) {
      await closeGateMode(relay, deploymentId, target);
    }
  } catch (error) {
    core.warning(redact(`hookgate: cleanup at the relay for ${deploymentId} failed: ${error instanceof Error ? error.message : String(error)}`));
  }
}

async function closeGateMode(relay: RelayClient, deploymentId: string, target: string): Promise<void> {
  const attempt = Number(process.env.GITHUB_RUN_ATTEMPT) || 1;
  const record = await relay.pollTarget(deploymentId, target, 0);
  if (record.status !== 'running' || record.attempt !== attempt) return;
  const message = `${target} failed: the job ended before its afterDeployment gates ran (a step after the beforeDeployment gates failed or was skipped)`;
  await relay.reportTarget({ runId: deploymentId, target, attempt, status: 'failed', message });
  core.info(`hookgate: ${message}; jobs that depend on ${target} are canceled`);
}

await post();
