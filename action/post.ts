/** The post step: when the main step did not finish (the job was canceled), cancel the run's pending gates. */
import * as core from '@actions/core';
import { createRedactor } from './redact.ts';
import { RelayClient } from './relay-client.ts';
import { INPUTS, STATE } from './settings.ts';

/** Cleanup never fails the job: problems become warnings. */
export async function post(): Promise<void> {
  const deploymentId = core.getState(STATE.deploymentId);
  if (!deploymentId || core.getState(STATE.finished) === 'true') return;
  const token = core.getInput(INPUTS.relayToken);
  const redact = createRedactor([token]);
  try {
    const relay = new RelayClient({ baseUrl: core.getInput(INPUTS.relayUrl), token });
    // One job per environment: this job cancels only its own target's gates.
    const target = core.getState(STATE.target) || undefined;
    const { canceled } = await relay.cancel({ runId: deploymentId, reason: 'the workflow job was canceled', ...(target ? { target } : {}) });
    const scope = target ? `target ${target} of ${deploymentId}` : deploymentId;
    core.info(`hookgate: canceled ${canceled.length} pending gate(s) of ${scope}; late callbacks get 410`);
  } catch (error) {
    core.warning(redact(`hookgate: could not cancel the pending gates of ${deploymentId}: ${error instanceof Error ? error.message : String(error)}`));
  }
}

await post();
