/**
 * Schema step 9 (relay/run/schema.ts): the heartbeat due time is indexed, so the alarm's re-arm and
 * the due check read one row of each index whatever the number of pending gates; and a gate the relay
 * failed itself is marked, also on a run stored before the step.
 */
import { evictDurableObject, runDurableObjectAlarm, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { gateDue, Heartbeats, quietMessage } from '../../../relay/run/heartbeats.ts';
import type { GateRow } from '../../../relay/run/rows.ts';
import { RunStore } from '../../../relay/run/store.ts';
import { authHeaders, BASE, decide, expectError, getGate, postCallback, register, runInObject, runStub } from '../helpers.ts';
import { undoStep9 } from './stored.ts';

/** `sql` that counts the rows its statements read (SqlStorageCursor.rowsRead), once they have run. */
function countingSql(sql: SqlStorage): { sql: SqlStorage; rowsRead: () => number } {
  const cursors: { rowsRead: number }[] = [];
  const exec = (query: string, ...bindings: SqlStorageValue[]): SqlStorageCursor<Record<string, SqlStorageValue>> => {
    const cursor = sql.exec(query, ...bindings);
    cursors.push(cursor);
    return cursor;
  };
  return { sql: { exec } as unknown as SqlStorage, rowsRead: () => cursors.reduce((sum, cursor) => sum + cursor.rowsRead, 0) };
}

const PLANTED = 400;

/** Adds PLANTED pending webhook gates beside `gateId`'s: every other one with a heartbeat, most of those called. */
function plantPending(sql: SqlStorage, gateId: string, now: number): void {
  sql.exec(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO gates (id, run_id, step_key, target, phase, name, kind, attempt, state, requires_roles, created_at, deadline,
                        callback_uri, heartbeat_seconds, called_at, last_heard_at)
     SELECT printf('planted%015d', i), run_id, 'planted/' || i, target, phase, name, 'webhook', attempt, 'pending', '[]', ?,
            ? + 3600000 + i * 1000, '', CASE WHEN i % 2 = 0 THEN 600 END,
            CASE WHEN i % 3 > 0 THEN ? - i * 1000 END, CASE WHEN i % 3 > 0 THEN ? - i * 1000 END
     FROM gates, n WHERE gates.id = ?`,
    PLANTED,
    now,
    now,
    now,
    now,
    gateId,
  );
}

async function called(runId: string, gateId: string): Promise<void> {
  const res = await SELF.fetch(`${BASE}/v1/gates/called`, { method: 'POST', headers: authHeaders(), body: JSON.stringify({ runId, gateId }) });
  expect(res.status).toBe(200);
}

describe('the heartbeat index (step 9)', () => {
  it('finds the next due time and any gate due by reading a few rows, not every pending gate', async () => {
    const gate = await register({ timeoutSeconds: 7200 });
    await runInObject(gate.runId, (state) => {
      const now = Date.now();
      plantPending(state.storage.sql, gate.gateId, now);
      const pending = state.storage.sql.exec<GateRow>("SELECT * FROM gates WHERE state = 'pending'").toArray();
      expect(pending).toHaveLength(PLANTED + 1);
      const next = Math.min(...pending.map(gateDue));
      // The nearest is a heartbeat, not a deadline: the heartbeat index is what finds it.
      expect(next).toBeLessThan(Math.min(...pending.map((row) => row.deadline)));

      const counted = countingSql(state.storage.sql);
      expect(new RunStore(counted.sql).nextDeadline()).toBe(next);
      expect(new RunStore(counted.sql).hasDue()).toBe(false);
      expect(new Heartbeats(counted.sql).failQuiet(now)).toEqual([]);
      expect(counted.rowsRead()).toBeLessThanOrEqual(10);

      state.storage.sql.exec("UPDATE gates SET last_heard_at = ? WHERE id = 'planted000000000000004'", now - 601_000);
      const again = countingSql(state.storage.sql);
      expect(new RunStore(again.sql).hasDue()).toBe(true);
      expect(new RunStore(again.sql).nextDeadline()).toBe(now - 1000);
      const failed = new Heartbeats(again.sql).failQuiet(now);
      expect(failed.map((row) => [row.id, row.state, row.relay_ended])).toEqual([['planted000000000000004', 'failed', 1]]);
      expect(again.rowsRead()).toBeLessThanOrEqual(10);
    });
  });

  it('is added to a run stored before it, and a gate the relay failed before it answers late callbacks 410', async () => {
    const quiet = await register({ heartbeatSeconds: 300, timeoutSeconds: 3600 });
    const sender = await register({ runId: quiet.runId, stepKey: 'sender', heartbeatSeconds: 300, timeoutSeconds: 3600 });
    await called(quiet.runId, quiet.gateId);
    await called(quiet.runId, sender.gateId);
    await decide(sender.callbackUri, { success: false, mdMessage: 'the build broke' });
    const heardAt = Date.now() - 301_000;
    await runInObject(quiet.runId, (state) => {
      undoStep9(state);
      // As the relay before step 9 failed a quiet gate: no mark, only its message.
      state.storage.sql.exec(
        "UPDATE gates SET state = 'failed', message = ?, decided_at = ?, last_heard_at = ? WHERE id = ?",
        quietMessage(300, heardAt),
        Date.now(),
        heardAt,
        quiet.gateId,
      );
    });
    await evictDurableObject(runStub(quiet.runId));

    await expectError(await postCallback(quiet.callbackUri, { success: false }), 410, 'gone');
    expect(await getGate(quiet.runId, quiet.gateId)).toMatchObject({ state: 'failed', message: quietMessage(300, heardAt) });
    expect((await postCallback(sender.callbackUri, { success: false })).status).toBe(200);
    const stored = await runInObject(quiet.runId, (state) => ({
      version: state.storage.sql.exec<{ version: number }>('SELECT version FROM schema_version').one().version,
      index: state.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'gates_heartbeat_due'").toArray().length,
    }));
    expect(stored).toEqual({ version: 10, index: 1 });
    // And the upgraded run's alarm still fails a quiet gate.
    const later = await register({ runId: quiet.runId, stepKey: 'later', heartbeatSeconds: 60, timeoutSeconds: 3600 });
    await called(later.runId, later.gateId);
    await runInObject(later.runId, (state) => {
      state.storage.sql.exec('UPDATE gates SET last_heard_at = ? WHERE id = ?', Date.now() - 61_000, later.gateId);
    });
    expect(await runDurableObjectAlarm(runStub(later.runId))).toBe(true);
    expect((await getGate(later.runId, later.gateId)).state).toBe('failed');
  });
});
