/**
 * The warning at start of a job that may wait longer than its runner lives (SPEC §9): a
 * GitHub-hosted job is stopped after 6 hours (self-hosted: 5 days); `park-after` frees the runner.
 */
import { DEFAULT_GATE_TIMEOUT_SECONDS } from '../../shared/protocol.ts';
import { formatDuration } from '../lib/time.ts';
import type { Log } from '../output/log.ts';
import type { GateItem, Plan } from '../plan/plan.ts';

/** GitHub's limit on a job on a GitHub-hosted runner. */
const HOSTED_JOB_LIMIT_SECONDS = 6 * 60 * 60;

/** The longest a single gate of the plan may wait, in seconds (0 for none). */
export function longestGateWait(plan: Plan): number {
  const wait = (item: GateItem): number => {
    if (item.kind === 'pause') return item.seconds;
    if (item.kind === 'approval') return item.expirationSeconds ?? DEFAULT_GATE_TIMEOUT_SECONDS;
    const def = plan.webhooks[item.webhook];
    return def && !def.disableCallback ? def.timeoutSeconds : 0;
  };
  const items = plan.targets.flatMap((target) => {
    const strategy = target.strategy;
    const steps =
      strategy === null
        ? []
        : strategy.kind === 'canary'
          ? strategy.steps.flatMap((step) => (step.kind === 'setWeight' ? [] : [step]))
          : [...strategy.redirectTrafficAfter, ...strategy.shutDownOldVersionAfter];
    return [...target.beforeDeployment, ...steps, ...target.afterDeployment];
  });
  return Math.max(0, ...items.map(wait));
}

/** Warns, when the job may not park, that a gate may outlive a GitHub-hosted job. */
export function warnLongWaits(plan: Plan, parkAfterMs: number | null, log: Log): void {
  if (parkAfterMs !== null) return;
  const longest = longestGateWait(plan);
  if (longest <= HOSTED_JOB_LIMIT_SECONDS) return;
  log.warning(
    `hookgate: a gate of ${plan.file} may wait up to ${formatDuration(longest * 1000)}, longer than the 6-hour limit of a job on a ` +
      `GitHub-hosted runner (5 days self-hosted), which would stop the job; set input park-after (e.g. park-after: 10m) to wait without a runner`,
  );
}
