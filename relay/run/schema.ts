/**
 * The run object's SQLite schema and its migrations. Objects created by an earlier
 * relay keep their storage across a deploy (and `npm run relay` keeps it on disk),
 * so the schema only ever moves forward, one numbered step at a time.
 */

/**
 * Each entry moves the schema from version `index` to `index + 1`. Never edit a
 * shipped step; append one. Durable Objects refuse `PRAGMA user_version`
 * (SQLITE_AUTH), so the version lives in its own one-row table.
 */
const MIGRATIONS: readonly string[] = [
  // 1: the first relay's tables. IF NOT EXISTS: objects it created already have them, unversioned.
  `CREATE TABLE IF NOT EXISTS gates (
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
   CREATE INDEX IF NOT EXISTS progress_gate ON progress (gate_id, at);`,
  // 2: approval gates, run attempts, the run's description and its targets' outcomes.
  `ALTER TABLE gates ADD COLUMN kind TEXT NOT NULL DEFAULT 'webhook';
   ALTER TABLE gates ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE gates ADD COLUMN decided_by TEXT;
   ALTER TABLE gates ADD COLUMN requires_roles TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE gates ADD COLUMN approval_url TEXT;
   CREATE INDEX gates_target ON gates (target, attempt, state);
   CREATE TABLE run_info (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     application TEXT NOT NULL,
     repository TEXT NOT NULL,
     sha TEXT NOT NULL,
     ref TEXT NOT NULL,
     actor TEXT NOT NULL,
     run_url TEXT NOT NULL
   );
   CREATE TABLE targets (
     target TEXT PRIMARY KEY,
     attempt INTEGER NOT NULL,
     status TEXT NOT NULL,
     message TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );`,
  // 3: the run's owner (SPEC §6): the repository, by GitHub's repository_id, whose OIDC token
  // wrote first, or `token` when RELAY_TOKEN did. Runs written before owners existed were
  // written with RELAY_TOKEN, the only credential then: they stay token-owned, not claimable.
  `CREATE TABLE run_owner (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     kind TEXT NOT NULL CHECK (kind IN ('token', 'repository')),
     repository_id TEXT,
     repository TEXT,
     claimed_at INTEGER NOT NULL
   );
   INSERT INTO run_owner (id, kind, claimed_at)
     SELECT 1, 'token', CAST(strftime('%s', 'now') AS INTEGER) * 1000
     WHERE EXISTS (SELECT 1 FROM gates) OR EXISTS (SELECT 1 FROM targets);`,
  // 4: progress reports numbered per gate (1, 2, 3…), so a reader can tell new ones from seen
  // ones after the oldest were dropped. Reports already kept are numbered in their order.
  `ALTER TABLE progress ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
   UPDATE progress SET seq = (
     SELECT COUNT(*) FROM progress AS earlier WHERE earlier.gate_id = progress.gate_id
       AND (earlier.at < progress.at OR (earlier.at = progress.at AND earlier.rowid <= progress.rowid)));
   CREATE UNIQUE INDEX progress_seq ON progress (gate_id, seq);`,
  // 5: parking (shared/park.ts): the journal of each attempt (first record of a key stands), the
  // parked jobs (one row per job key) and the resume dispatches the alarm sends. JSON columns hold
  // values the relay validated at its border (RunRef, JournalRecord, id lists).
  `CREATE TABLE journal (
     attempt INTEGER NOT NULL,
     key TEXT NOT NULL,
     record TEXT NOT NULL,
     run TEXT NOT NULL,
     at INTEGER NOT NULL,
     PRIMARY KEY (attempt, key)
   );
   CREATE TABLE dispatches (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     state TEXT NOT NULL,
     repository TEXT NOT NULL,
     workflow TEXT NOT NULL,
     ref TEXT NOT NULL,
     tries INTEGER NOT NULL DEFAULT 0,
     error TEXT,
     deployment_id TEXT NOT NULL,
     resumed_run_id TEXT,
     resumed_run_url TEXT,
     next_at INTEGER,
     first_try_at INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX dispatches_due ON dispatches (state, next_at);
   CREATE TABLE parks (
     job TEXT PRIMARY KEY,
     run_id TEXT NOT NULL,
     attempt INTEGER NOT NULL,
     state TEXT NOT NULL,
     gate_ids TEXT NOT NULL,
     targets TEXT NOT NULL,
     repository TEXT NOT NULL,
     workflow TEXT NOT NULL,
     ref TEXT NOT NULL,
     parked_by TEXT NOT NULL,
     claimed_by TEXT,
     dispatch_id INTEGER,
     parked_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );`,
  // 6: who may approve (issue 12): an approval gate's policy (JSON of shared/protocol.ts
  // ApprovalPolicy) and one row per signed-in person per gate. `user_id` is GitHub's user id:
  // a renamed login is still the same person.
  `ALTER TABLE gates ADD COLUMN approval TEXT;
   CREATE TABLE approvals (
     gate_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     login TEXT NOT NULL,
     approved INTEGER NOT NULL,
     comment TEXT NOT NULL,
     at INTEGER NOT NULL,
     PRIMARY KEY (gate_id, user_id)
   );`,
  // 7: GitHub's custom deployment protection rule (relay/run/protection.ts): one row per
  // `requested` delivery (its X-GitHub-Delivery unique), waiting for the environment's gates,
  // then its answer stored and sent by the alarm as resume dispatches are.
  `CREATE TABLE protection_requests (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     delivery TEXT NOT NULL UNIQUE,
     environment TEXT NOT NULL,
     repository TEXT NOT NULL,
     callback_url TEXT NOT NULL,
     state TEXT NOT NULL,
     answer TEXT,
     comment TEXT,
     tries INTEGER NOT NULL DEFAULT 0,
     error TEXT,
     next_at INTEGER,
     first_try_at INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX protection_requests_due ON protection_requests (state, next_at);`,
  // 8: issue 13. A decision's outputs (JSON of shared/protocol.ts Outputs; null without), a webhook
  // gate's heartbeatTimeout, when the action reported the webhook called and when the external
  // system was last heard (both null until the call), and the run's graph (JSON of GraphTarget[];
  // null from an older action). Existing rows read as gates without outputs or heartbeat.
  `ALTER TABLE gates ADD COLUMN outputs TEXT;
   ALTER TABLE gates ADD COLUMN heartbeat_seconds INTEGER;
   ALTER TABLE gates ADD COLUMN called_at INTEGER;
   ALTER TABLE gates ADD COLUMN last_heard_at INTEGER;
   ALTER TABLE run_info ADD COLUMN graph TEXT;`,
  // 9: the heartbeat due time indexed (relay/run/heartbeats.ts HEARTBEAT_DUE, the same expression:
  // SQLite uses an expression index only for a query that spells it alike), so re-arming the alarm
  // reads one row of each index, not every pending gate. `relay_ended`: 1 when the relay failed the
  // gate itself (a heartbeat), so a late callback is answered 410 as after a timeout; gates it failed
  // before this step are told by the message it wrote (a sender that posted the same failure text
  // gets 410 for a repeat instead of 200: harmless). Not LIKE: a Durable Object refuses so long a pattern.
  `CREATE INDEX gates_heartbeat_due ON gates (state, (last_heard_at + heartbeat_seconds * 1000));
   ALTER TABLE gates ADD COLUMN relay_ended INTEGER NOT NULL DEFAULT 0;
   UPDATE gates SET relay_ended = 1
     WHERE state = 'failed' AND called_at IS NOT NULL AND heartbeat_seconds IS NOT NULL AND outputs IS NULL
       AND substr(message, 1, 50) = 'the external system went quiet: nothing heard for ' AND instr(message, ' (heartbeatTimeout) since ') > 0;`,
  // 10: when the alarm sent a resume dispatch whose outcome is not known yet (relay/run/resume-sender.ts):
  // set before the send, cleared by a definite answer. A relay stopped in between finds it set and asks
  // GitHub for the run before sending again. Rows stored before the step read as never sent in doubt.
  `ALTER TABLE dispatches ADD COLUMN sending_at INTEGER;`,
];

/** The schema version this code reads and writes. */
const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Whether the object has stored a run: its tables exist (schema_version from step 1 on, gates
 * before versions existed). A read, so that asking about an unknown run creates nothing.
 */
export function hasTables(sql: SqlStorage): boolean {
  const found = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name IN ('schema_version', 'gates') LIMIT 1");
  return found.toArray().length > 0;
}

/** Brings the object's storage to SCHEMA_VERSION; each step commits atomically with its new version. */
export function migrate(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  sql.exec('CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)');
  const stored = sql.exec<{ version: number }>('SELECT version FROM schema_version').toArray()[0]?.version ?? 0;
  if (stored > SCHEMA_VERSION) {
    // A rollback to older code must not write into a schema it does not know.
    throw new Error(`storage has schema version ${stored}; this relay knows up to ${SCHEMA_VERSION}`);
  }
  for (let version = stored; version < SCHEMA_VERSION; version += 1) {
    const step = MIGRATIONS[version] ?? '';
    storage.transactionSync(() => {
      sql.exec(step);
      sql.exec(
        'INSERT INTO schema_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version',
        version + 1,
      );
    });
  }
}
