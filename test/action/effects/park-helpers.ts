/** The real effects with a park watch and a journal, over the harness's fakes, for the park and resume tests. */
import type { TargetRecord } from '../../../shared/protocol.ts';
import type { JournalEntry, JournalRecord } from '../../../shared/park.ts';
import { createTargetEffects } from '../../../action/effects/index.ts';
import { Journal } from '../../../action/effects/journal.ts';
import { ParkWatch } from '../../../action/effects/park-watch.ts';
import type { DeploymentEffects } from '../../../action/engine/effects.ts';
import type { Clock } from '../../../action/lib/time.ts';
import type { Harness } from './harness.ts';

export const PARKED_RUN = { id: '41', attempt: 1, url: 'https://github.com/octo/app/actions/runs/41' };
export const THIS_RUN = { id: '42', attempt: 1, url: 'https://github.com/octo/app/actions/runs/42' };

export interface ParkSetup {
  /** The parked attempt's target records (a continuing job's). */
  records?: TargetRecord[];
  /** null: never park. */
  parkAfterMs?: number | null;
  /** The watch's clock; default the harness's (whose sleeps end at once: parks as soon as the job only waits). */
  watchClock?: Clock;
  /** The parked attempt's journal, when continuing. */
  entries?: JournalEntry[];
  writes?: boolean;
}

/** Effects as main.ts builds them for a job that may park or continues a parked attempt. */
export function parkingEffects(h: Harness, setup: ParkSetup = {}): { fx: DeploymentEffects; watch: ParkWatch; journal: Journal } {
  const watch = new ParkWatch(setup.parkAfterMs === undefined ? 0 : setup.parkAfterMs, setup.watchClock ?? h.clock);
  const journal = new Journal({
    relay: h.ctx.relay,
    runId: h.ctx.settings.deploymentId,
    attempt: 1,
    run: THIS_RUN,
    clock: h.clock,
    log: h.log,
    redact: h.ctx.redact,
    watch,
    writes: setup.writes ?? true,
    entries: setup.entries ?? [],
    records: setup.records ?? [],
  });
  return { fx: createTargetEffects({ ...h.ctx, attempt: 1, watch, journal }), watch, journal };
}

/** A journal entry the parked run wrote. */
export function entry(key: string, record: JournalRecord, at = 0): JournalEntry {
  return { key, attempt: 1, record, run: PARKED_RUN, at };
}

/** A `step` entry of a step that succeeded. */
export function stepEntry(key: string, kind: 'webhook' | 'command' | 'approval', name: string, phase: 'beforeDeployment' | 'deploy' | 'afterDeployment', at = 0): JournalEntry {
  const step = { kind, name, phase, state: 'succeeded' as const, message: null, progress: [], start: '2025-01-01T00:00:00.000Z', end: '2025-01-01T00:01:00.000Z' };
  return entry(key, { type: 'step', step }, at);
}

/** Relay requests as `METHOD path` lines, a journal write as `journal <key>`. */
export function requestLines(requests: readonly { method: string; path: string; body: unknown }[]): string[] {
  return requests.map((r) => {
    if (r.path === '/v1/runs/journal') return `journal ${(r.body as { key: string }).key}`;
    if (r.path === '/v1/gates' && r.method === 'POST') return `register ${(r.body as { name: string }).name}`;
    if (r.path === '/v1/gates/called') return 'called';
    if (r.path.startsWith('/v1/gates/')) return 'poll';
    if (r.path === '/v1/runs/targets' && r.method === 'POST') return `target ${(r.body as { status: string }).status}`;
    return `${r.method} ${r.path}`;
  });
}
