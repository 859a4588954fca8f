/** The run object's schema migrations (relay/run/schema.ts): storage written by earlier relays upgrades in place. */
import { evictDurableObject, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { mintGateToken } from '../../../relay/tokens/gate-token.ts';
import { migrate } from '../../../relay/run/schema.ts';
import {
  authHeaders,
  BASE,
  CALLBACK_SECRET,
  decide,
  expectError,
  fetchGate,
  fetchTarget,
  gateRequest,
  getGate,
  getTarget,
  newRunId,
  postRegister,
  openApproval,
  register,
  registerApproval,
  reportTarget,
  runInObject,
  runStub,
} from '../helpers.ts';
import { oidcHeaders, REPO_A, REPO_B } from '../oidc.ts';
import { undoStep8 } from './stored.ts';

/** The first relay's schema, exactly as its constructor created it (git history of relay/run/object.ts). */
const FIRST_SCHEMA = `
  CREATE TABLE IF NOT EXISTS gates (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    step_key TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL,
    phase TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    message TEXT,
    created_at INTEGER NOT NULL,
    deadline INTEGER NOT NULL,
    decided_at INTEGER,
    callback_uri TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS gates_pending ON gates (state, deadline);
  CREATE TABLE IF NOT EXISTS progress (
    gate_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS progress_gate ON progress (gate_id, at);
`;

/** The schema version of this relay (relay/run/schema.ts: one per migration step). */
const SCHEMA_VERSION = 10;

function storedVersion(runId: string): Promise<number | undefined> {
  return runInObject(runId, (state) =>
    state.storage.sql.exec<{ version: number }>('SELECT version FROM schema_version').toArray()[0]?.version,
  );
}

/** Replaces a run's storage with the first relay's: its tables, no version, one pending and one decided gate. */
async function plantFirstRelayStorage(runId: string): Promise<{ pendingId: string; decidedId: string; callbackUri: string }> {
  const pendingId = 'PendingGateFromV1xxxxx';
  const decidedId = 'DecidedGateFromV1xxxxx';
  const callbackUri = `${BASE}/cb/${await mintGateToken(CALLBACK_SECRET, 'callback', runId, pendingId)}`;
  const now = Date.now();
  await runInObject(runId, async (state) => {
    const sql = state.storage.sql;
    for (const table of ['gates', 'progress', 'run_info', 'targets', 'run_owner', 'journal', 'parks', 'dispatches', 'approvals', 'protection_requests', 'schema_version']) {
      sql.exec(`DROP TABLE IF EXISTS ${table}`);
    }
    sql.exec(FIRST_SCHEMA);
    const deadline = now + 3600_000;
    const oldGates = [
      [pendingId, runId, 'staging/1/a', 'staging', 'beforeDeployment', 'Old-Pending', 'pending', null, now, deadline, null, callbackUri],
      [decidedId, runId, 'staging/1/b', 'staging', 'afterDeployment', 'Old-Decided', 'succeeded', 'green', now, deadline, now, ''],
    ];
    for (const values of oldGates) {
      sql.exec(
        `INSERT INTO gates (id, run_id, step_key, target, phase, name, state, message, created_at, deadline, decided_at, callback_uri)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ...values,
      );
    }
    sql.exec('INSERT INTO progress (gate_id, at, message) VALUES (?, ?, ?)', pendingId, now, 'half way');
    await state.storage.setAlarm(deadline);
  });
  // The next request constructs the object afresh, as after a deploy of the new relay.
  await evictDurableObject(runStub(runId));
  return { pendingId, decidedId, callbackUri };
}

describe('schema migrations', () => {
  it('creates the current schema for a new run', async () => {
    const gate = await register();
    expect(await storedVersion(gate.runId)).toBe(SCHEMA_VERSION);
  });

  it('upgrades a run stored by the first relay: its gates read as attempt-1 webhooks and keep working', async () => {
    const runId = newRunId('first-relay');
    const { pendingId, decidedId, callbackUri } = await plantFirstRelayStorage(runId);

    const pending = await getGate(runId, pendingId);
    expect(pending).toMatchObject({ kind: 'webhook', attempt: 1, state: 'pending', decidedBy: null, name: 'Old-Pending' });
    expect(pending.progress).toMatchObject([{ seq: 1, message: 'half way' }]);
    expect(await getGate(runId, decidedId)).toMatchObject({ kind: 'webhook', attempt: 1, state: 'succeeded', message: 'green' });
    expect(await storedVersion(runId)).toBe(SCHEMA_VERSION);

    await decide(callbackUri, { success: false, mdMessage: 'decided after the upgrade' });
    expect((await getGate(runId, pendingId)).state).toBe('failed');

    // The new tables are there and used.
    const approval = await registerApproval({ runId });
    expect((await openApproval(approval.approvalUrl)).res.status).toBe(200);
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'running' });
    expect((await getTarget(runId, 'staging')).status).toBe('running');
  });

  it('lets a re-run supersede a pending gate the first relay stored', async () => {
    const runId = newRunId('first-relay');
    const { pendingId } = await plantFirstRelayStorage(runId);
    await register({ runId, stepKey: 'staging/2/a', target: 'staging', attempt: 2 });
    expect((await getGate(runId, pendingId)).state).toBe('superseded');
  });

  it('is a no-op on a current schema and refuses a newer one', async () => {
    const gate = await register();
    await runInObject(gate.runId, (state) => {
      migrate(state.storage);
      expect(state.storage.sql.exec('SELECT version FROM schema_version').toArray()).toEqual([{ version: SCHEMA_VERSION }]);
      state.storage.sql.exec('UPDATE schema_version SET version = ?', SCHEMA_VERSION + 1);
      expect(() => migrate(state.storage)).toThrow(`schema version ${SCHEMA_VERSION + 1}`);
      state.storage.sql.exec('UPDATE schema_version SET version = ?', SCHEMA_VERSION);
    });
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });
});

/** Turns a run's storage back into the third relay's (schema 3: progress without seq), as after a deploy of that relay. */
async function downgradeToThirdRelay(runId: string): Promise<void> {
  await runInObject(runId, undoStep4);
  await evictDurableObject(runStub(runId));
}

/** Schema 6: no protection_requests (GitHub's deployment protection rule). */
function undoStep7(state: DurableObjectState): void {
  undoStep8(state);
  state.storage.sql.exec('DROP TABLE protection_requests');
  state.storage.sql.exec('UPDATE schema_version SET version = 6');
}

/** Schema 5: no approvals table, no gates.approval. */
function undoStep6(state: DurableObjectState): void {
  undoStep7(state);
  state.storage.sql.exec('DROP TABLE approvals');
  state.storage.sql.exec('ALTER TABLE gates DROP COLUMN approval');
  state.storage.sql.exec('UPDATE schema_version SET version = 5');
}

/** Schema 4: no parking tables. */
function undoStep5(state: DurableObjectState): void {
  undoStep6(state);
  for (const table of ['journal', 'parks', 'dispatches']) state.storage.sql.exec(`DROP TABLE ${table}`);
  state.storage.sql.exec('UPDATE schema_version SET version = 4');
}

function undoStep4(state: DurableObjectState): void {
  undoStep5(state);
  state.storage.sql.exec('DROP INDEX progress_seq');
  state.storage.sql.exec('ALTER TABLE progress DROP COLUMN seq');
  state.storage.sql.exec('UPDATE schema_version SET version = 3');
}

/** Turns a run's storage back into the second relay's (schema 2: no run_owner), as after a deploy of that relay. */
async function downgradeToSecondRelay(runId: string): Promise<void> {
  await runInObject(runId, (state) => {
    undoStep4(state);
    state.storage.sql.exec('DROP TABLE run_owner');
    state.storage.sql.exec('UPDATE schema_version SET version = 2');
  });
  await evictDurableObject(runStub(runId));
}

describe('the upgrade to parking (step 5)', () => {
  it('adds the journal, parks and dispatches to a run the fourth relay stored; its gates keep working', async () => {
    const gate = await register();
    await runInObject(gate.runId, undoStep5);
    await evictDurableObject(runStub(gate.runId));

    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
    expect(await storedVersion(gate.runId)).toBe(SCHEMA_VERSION);
    const res = await SELF.fetch(`${BASE}/v1/runs/journal`, {
      method: 'POST',
      headers: authHeaders(),
      body: JSON.stringify({ runId: gate.runId, attempt: 1, key: 'staging/deploy', record: { type: 'called' }, run: { id: '1', attempt: 1, url: '' } }),
    });
    expect(await res.json()).toEqual({ recorded: true });
  });
});

describe('the upgrade to numbered progress reports (step 4)', () => {
  it('numbers the reports a run kept in their order, and goes on from the last', async () => {
    const gate = await register();
    for (const message of ['one', 'two', 'three']) await decide(gate.callbackUri, { progress: true, mdMessage: message });
    const other = await register({ runId: gate.runId, stepKey: 'other' });
    await decide(other.callbackUri, { progress: true, mdMessage: 'elsewhere' });
    await downgradeToThirdRelay(gate.runId);

    const upgraded = await getGate(gate.runId, gate.gateId);
    expect(upgraded.progress.map(({ seq, message }) => [seq, message])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
    expect((await getGate(gate.runId, other.gateId)).progress).toMatchObject([{ seq: 1, message: 'elsewhere' }]);
    expect(await storedVersion(gate.runId)).toBe(SCHEMA_VERSION);
    await decide(gate.callbackUri, { progress: true, mdMessage: 'four' });
    expect((await getGate(gate.runId, gate.gateId)).progress.at(-1)).toMatchObject({ seq: 4, message: 'four' });
  });
});

describe('the upgrade to run owners (step 3)', () => {
  it('gives a run the second relay stored to the relay token: no OIDC token can claim it', async () => {
    const gate = await register();
    await reportTarget({ runId: gate.runId, target: 'staging', attempt: 1, status: 'running' });
    await downgradeToSecondRelay(gate.runId);

    // A read claims nothing: this 403 comes from the migration's owner.
    const a = await oidcHeaders(REPO_A);
    await expectError(await fetchGate(gate.runId, gate.gateId, undefined, a), 403, 'forbidden');
    expect(await storedVersion(gate.runId)).toBe(SCHEMA_VERSION);
    await expectError(await postRegister(gateRequest({ runId: gate.runId, stepKey: 'a' }), a), 403, 'forbidden');
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
    expect((await getTarget(gate.runId, 'staging')).status).toBe('running');
  });

  it('leaves a run with nothing stored unowned, for its first writer', async () => {
    const runId = newRunId('empty-second-relay');
    // Tables and nothing in them, as a read by the second relay left a run (this relay's reads create none).
    await runInObject(runId, (state) => migrate(state.storage));
    await downgradeToSecondRelay(runId);

    expect((await fetchTarget(runId, 'staging', undefined, await oidcHeaders(REPO_B))).status).toBe(200);
    expect((await postRegister(gateRequest({ runId }), await oidcHeaders(REPO_A))).status).toBe(201);
    await expectError(await fetchTarget(runId, 'staging', undefined, await oidcHeaders(REPO_B)), 403, 'forbidden');
  });

  it('gives a run the first relay stored to the relay token too', async () => {
    const runId = newRunId('first-relay');
    const { pendingId } = await plantFirstRelayStorage(runId);
    await expectError(await fetchGate(runId, pendingId, undefined, await oidcHeaders(REPO_A)), 403, 'forbidden');
    expect((await getGate(runId, pendingId)).state).toBe('pending');
  });
});
