/**
 * What GitHub's deployment protection rule answering for a target changes in the run: the
 * parked `<target>#beforeDeployment` job the rule resumes is closed (no dispatch will resume
 * it), and a rejection ends a target its gate-mode job left `running` as `failed`, so the jobs
 * of its dependents stop waiting — the deploy job the rule held never runs to record it.
 */
import type { Parking } from './parking.ts';
import type { TargetRow } from './rows.ts';
import type { RunStore } from './store.ts';
import type { Waiters } from './waiters.ts';

export interface RuleAnsweredParts {
  parking: Parking;
  store: RunStore;
  targetWaiters: Waiters<TargetRow | undefined>;
}

export function ruleAnswered(parts: RuleAnsweredParts, target: string, answer: 'approved' | 'rejected', now: number): void {
  parts.parking.ruleAnswered(target, now);
  const record = parts.store.target(target);
  if (answer !== 'rejected' || record?.status !== 'running') return;
  const message = `${target} must not be deployed: GitHub's deployment protection rule was rejected (its beforeDeployment gates did not pass)`;
  const stored = parts.store.saveTarget(target, record.attempt, 'failed', message);
  parts.targetWaiters.wake(target, stored);
}
