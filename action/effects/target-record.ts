/**
 * What other jobs and GitHub learn about a target: its record at the relay (for the
 * jobs of its dependents, one job per environment) and its GitHub deployment.
 */
import { DEFAULT_GATE_TIMEOUT_SECONDS, MAX_TARGET_MESSAGE_CHARS } from '../../shared/protocol.ts';
import { errorMessage } from '../lib/errors.ts';
import { isParking } from '../engine/parking.ts';
import type { DeploymentEffects, ReportedStatus } from '../engine/effects.ts';
import { waitForTarget } from '../clients/relay.ts';
import { truncateCodePoints } from '../../shared/text.ts';
import { formatDuration } from '../lib/time.ts';
import type { EffectsContext } from './context.ts';

/** How long a job waits for an upstream target another job deploys: as long as a gate may wait. */
const UPSTREAM_MAX_WAIT_MS = DEFAULT_GATE_TIMEOUT_SECONDS * 1000;

/** `status` and `upstream` of the deployment's effects; neither ever rejects. */
export function createRecordEffects(deps: EffectsContext): Pick<DeploymentEffects, 'status' | 'upstream'> {
  const { settings, log, attempt } = deps;

  async function relayRecord(target: string, status: ReportedStatus, message: string): Promise<void> {
    try {
      await deps.relay.reportTarget({
        runId: settings.deploymentId,
        target,
        attempt,
        status,
        message: truncateCodePoints(message, MAX_TARGET_MESSAGE_CHARS),
      });
    } catch (error) {
      log.warning(`[${target}] could not record the target as ${status} at the relay (jobs that depend on it may wait): ${errorMessage(error)}`);
    }
  }

  return {
    async status(target, status, raw, detail) {
      const message = deps.redact(raw);
      // Before the record that may resume other parked jobs: a resumed run keeps this outcome.
      if (status !== 'running') await deps.journal.end(target.name, status, message);
      let github: Promise<void> | undefined;
      if (status !== 'running') {
        github = deps.deployments.finish(target.name, status, message, { rollbackFailed: detail?.rollbackFailed ?? false });
      } else if (settings.phase !== 'afterDeployment') {
        // In afterDeployment gate mode the beforeDeployment step of the same job started it already.
        github = deps.deployments.start(target.name, message);
      }
      await Promise.all([relayRecord(target.name, status, message), github]);
    },

    async upstream(name, signal) {
      log.info(`hookgate: Upstream target ${name} is deployed by another job; asking the relay for its outcome …`);
      try {
        const wait = (): ReturnType<typeof waitForTarget> => waitForTarget(deps.relay, settings.deploymentId, name, {
          signal,
          clock: deps.clock,
          maxWaitMs: UPSTREAM_MAX_WAIT_MS,
          onWaiting: (elapsed, current) =>
            log.info(
              `hookgate: Still waiting for upstream target ${name} (${current.status === 'unknown' ? 'not started yet' : current.status}): ${formatDuration(elapsed)} so far, at most ${formatDuration(UPSTREAM_MAX_WAIT_MS - elapsed)} more`,
            ),
          onRelayError: (error, retryIn) => log.warning(`hookgate: ${error.message}; asking again in ${formatDuration(retryIn)}`),
        });
        // The job only waits meanwhile: after park-after it may park, and the relay resumes it once the target is final.
        // Not a beforeDeployment gate step: it parks only once its gates exist, so GitHub's protection rule
        // (which asks when the deploy job is queued) finds them instead of rejecting a run without gates.
        const record = settings.phase === 'beforeDeployment' ? await wait() : await deps.watch.waitingOn({ target: name }, wait);
        if (record.status === 'unknown' || record.status === 'running') {
          return { outcome: 'canceled', message: `it did not finish within ${formatDuration(UPSTREAM_MAX_WAIT_MS)}` };
        }
        log.info(`hookgate: Upstream target ${name}: ${record.status}`);
        return { outcome: record.status, message: record.message };
      } catch (error) {
        if (signal.aborted && isParking(signal.reason)) return { outcome: 'parked', message: 'the job parked while waiting for it' };
        return { outcome: 'canceled', message: `its outcome could not be read: ${errorMessage(error)}` };
      }
    },
  };
}

