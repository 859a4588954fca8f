/**
 * The run's description as the approval page shows it (relay/run/schema.ts steps 2 and 8): sent
 * with every registration, the latest wins, graph included (an action older than issue 13 sends none).
 */
import type { RunInfo } from '../../shared/protocol.ts';
import type { RunInfoRow } from './rows.ts';
import { runInfo } from './rows.ts';

export function readRunInfo(sql: SqlStorage): RunInfo | null {
  return runInfo(sql.exec<RunInfoRow>('SELECT * FROM run_info WHERE id = 1').toArray()[0]);
}

/** Stores the run's description. Nearly every registration sends it unchanged: then nothing is written. */
export function saveRunInfo(sql: SqlStorage, run: RunInfo): void {
  const graph = run.graph === undefined ? null : JSON.stringify(run.graph);
  sql.exec(
    `INSERT INTO run_info (id, application, repository, sha, ref, actor, run_url, graph) VALUES (1, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET application = excluded.application, repository = excluded.repository,
       sha = excluded.sha, ref = excluded.ref, actor = excluded.actor, run_url = excluded.run_url, graph = excluded.graph
     WHERE (application, repository, sha, ref, actor, run_url, graph)
       IS NOT (excluded.application, excluded.repository, excluded.sha, excluded.ref, excluded.actor, excluded.run_url, excluded.graph)`,
    run.application,
    run.repository,
    run.sha,
    run.ref,
    run.actor,
    run.runUrl,
    graph,
  );
}
