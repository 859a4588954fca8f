/**
 * The post step, at the end of the job. When the main step did not finish (the
 * job was canceled and the step killed), it cancels the pending gates and marks
 * the run's GitHub deployments inactive. After a beforeDeployment gate step, it
 * closes a target the job left `running`, so dependent jobs stop waiting: failed
 * when the file has afterDeployment constraints for it (that step never ran),
 * succeeded when it has none (no afterDeployment step will ever come). Either way it leaves
 * the deploy queue the main step entered. After a job that parked it does nothing: the gates
 * (and the queue place) wait at the relay and a resumed run continues.
 */
import * as core from '@actions/core';
import { errorMessage } from './lib/errors.ts';
import { createGitHubDeployments, deploymentOptions, markAbandoned } from './clients/github-deployments.ts';
import { endGateModeTarget } from './effects/gate-mode-end.ts';
import { coreLog } from './output/log.ts';
import type { Log } from './output/log.ts';
import { createRedactor } from './output/redact.ts';
import { RelayClient } from './clients/relay.ts';
import { QueueClient } from './clients/queue.ts';
import { QueueKey } from '../shared/queue.ts';
import { INPUTS, STATE, githubContext, relayCredential } from './settings.ts';

/** Cleanup never fails the job: problems become warnings. */
export async function post(): Promise<void> {
  const deploymentId = core.getState(STATE.deploymentId);
  // A parked job leaves its gates pending and its targets running: a resumed run continues them.
  if (!deploymentId || core.getState(STATE.parked) === 'true') return;
  const finished = core.getState(STATE.finished) === 'true';
  const target = core.getState(STATE.target) || undefined;
  if (finished && !(target && core.getState(STATE.phase) === 'beforeDeployment')) return;

  const token = core.getInput(INPUTS.relayToken) || null;
  const githubToken = core.getInput(INPUTS.githubToken);
  const redact = createRedactor([token ?? '', githubToken]);
  const log = coreLog(redact);
  const relayUrl = core.getInput(INPUTS.relayUrl).replace(/\/+$/, '');
  const relay = new RelayClient({ baseUrl: relayUrl, token: relayCredential(token, relayUrl) });
  const context = githubContext(process.env);
  // A job that continued a parked attempt ran that attempt (its gates, records and deployments carry it).
  const attempt = Number(core.getState(STATE.attempt)) || undefined;
  const github = deploymentOptions(context, githubToken, deploymentId, log, attempt);
  try {
    if (!finished) {
      // One job per environment: this job cancels only its own target's gates.
      const reason = 'the workflow job was canceled';
      const [{ canceled }, marked] = await Promise.all([
        relay.cancel({ runId: deploymentId, reason, ...(target ? { target } : {}) }),
        markAbandoned({ ...github, reason, ...(target ? { target } : {}) }),
      ]);
      const scope = target ? `target ${target} of ${deploymentId}` : deploymentId;
      log.info(`hookgate: canceled ${canceled.length} pending gate(s) of ${scope}; late callbacks get 410`);
      if (marked > 0) log.info(`hookgate: marked ${marked} GitHub deployment(s) inactive`);
    } else if (target) {
      await endGateModeTarget({
        relay,
        deployments: createGitHubDeployments({ ...github, gateMode: true }),
        log,
        deploymentId,
        target,
        attempt: github.attempt,
        // Not saved (a main step of an older version): as before, the afterDeployment step is expected.
        hasAfterDeployment: core.getState(STATE.hasAfterDeployment) !== 'false',
      });
    }
  } catch (error) {
    log.warning(`hookgate: cleanup at the relay for ${deploymentId} failed: ${errorMessage(error)}`);
  }
  await leaveQueue(new QueueClient({ baseUrl: relayUrl, token: relayCredential(token, relayUrl) }), deploymentId, target, log);
}

/** Leaves the deploy queue the main step entered (saved state), with this job's target; a failure is a warning. */
async function leaveQueue(queue: QueueClient, runId: string, target: string | undefined, log: Log): Promise<void> {
  const saved = core.getState(STATE.queue);
  if (!saved) return;
  try {
    const key = QueueKey.parse(JSON.parse(saved));
    await queue.leave({ ...key, runId, ...(target ? { target } : {}) }, AbortSignal.timeout(LEAVE_TIMEOUT_MS));
    log.info(`hookgate: left the deploy queue of ${key.application}`);
  } catch (error) {
    log.warning(`hookgate: could not leave the deploy queue at the relay (its lease runs out instead): ${errorMessage(error)}`);
  }
}

/** A canceled job's post step has seconds: the lease ends the place anyway. */
const LEAVE_TIMEOUT_MS = 5000;

await post();
