/**
 * What the run object sends an approval page (relay/approval/page.ts): the gate, a window of its
 * target's gates (relay/run/store.ts pageGates), the run, and the run's graph with each target's
 * state read from its record and the parks.
 */
import type { RunInfo } from '../../shared/protocol.ts';
import { FINAL_TARGET_STATUSES } from '../../shared/protocol.ts';
import type { Approvals } from './approvals.ts';
import type { ParkStore } from './park-store.ts';
import type { Parking } from './parking.ts';
import type * as R from './results.ts';
import { approvalPolicy, requiredRoles } from './rows.ts';
import { storedStrings } from './stored-json.ts';
import type { RunStore } from './store.ts';

export type PageSources = { store: RunStore; approvals: Approvals; parking: Parking; sql: SqlStorage };

/** The page of approval gate `gateId`; null when it is not an approval gate of this run. */
export function approvalPageData({ store, approvals, parking, sql }: PageSources, gateId: string): R.ApprovalPage | null {
  const row = store.gate(gateId);
  if (row?.kind !== 'approval') return null;
  const shown = store.pageGates(gateId, row.target, row.attempt);
  const gate = shown.gates.find((sibling) => sibling.gateId === gateId) ?? store.view(row);
  const run = store.runInfo();
  const [policy, votes, graph] = [approvalPolicy(row), approvals.votes(gateId), pageGraph(run, sql, parking.parkStore)];
  return { gate, requiresRoles: requiredRoles(row), run, resume: parking.pageNote(), policy, votes, graph, ...shown };
}

/**
 * The run's graph with each target's state: its record's status, or `parked` while a parked job
 * waits in it and its record is not final; null when the action sent no graph.
 */
export function pageGraph(run: RunInfo | null, sql: SqlStorage, parks: ParkStore): R.PageGraphTarget[] | null {
  if (!run?.graph) return null;
  const records = new Map(parks.targets().map((row) => [row.target, row.status]));
  const parked = parkedTargets(sql, parks);
  return run.graph.map(({ name, dependsOn }) => {
    const status = records.get(name) ?? 'unknown';
    return { name, dependsOn, state: !FINAL_TARGET_STATUSES.includes(status) && parked.has(name) ? 'parked' : status };
  });
}

/**
 * The targets parked jobs wait in: a job of one target (`staging`, `staging#afterDeployment`) waits
 * in it; any parked job waits in the targets of its gates still pending (a `*` job's only clue).
 */
function parkedTargets(sql: SqlStorage, parks: ParkStore): Set<string> {
  const parked = parks.parks().filter((row) => row.state === 'parked');
  const names = new Set(parked.map((row) => row.job.replace(/#(?:beforeDeployment|afterDeployment)$/, '')).filter((job) => job !== '*'));
  const gateIds = parked.flatMap((row) => storedStrings(row.gate_ids));
  const pending = sql.exec<{ target: string }>(
    "SELECT DISTINCT target FROM gates WHERE state = 'pending' AND id IN (SELECT value FROM json_each(?))",
    JSON.stringify(gateIds),
  );
  for (const { target } of pending) names.add(target);
  return names;
}
