/**
 * The parking routes (relay/worker/park-routes.ts over relay/run/parking.ts): the journal's
 * first-write-wins, park, resume and unpark, the run view, and their refusals.
 */
import { describe, expect, it } from 'vitest';
import { MAX_JOURNAL_BODY_BYTES, MAX_JOURNAL_ENTRIES, MAX_PARKED_JOBS } from '../../../shared/park.ts';
import { MAX_BODY_BYTES, MAX_OUTPUTS_BYTES } from '../../../shared/protocol.ts';
import type { JournalRecord } from '../../../shared/park.ts';
import { authHeaders, BASE, expectError, newRunId, register, reportTarget, runInObject } from '../helpers.ts';
import { oidcHeaders, REPO_A, REPO_B } from '../oidc.ts';
import {
  journal,
  journalRequest,
  newRepository,
  park,
  PARKED_RUN,
  parkRequest,
  postJson,
  RESUMED_RUN,
  resume,
  runView,
} from '../park.ts';
import { SELF } from 'cloudflare:test';

const STEP: JournalRecord = {
  type: 'step',
  step: { kind: 'command', name: 'deploy', phase: 'deploy', state: 'succeeded', message: null, progress: [], start: '2026-11-29T10:00:00Z', end: '2026-11-29T10:01:00Z' },
};

describe('the journal', () => {
  it('keeps the first record of an attempt’s key; a repeat answers recorded: false', async () => {
    const runId = newRunId('journal');
    expect(await journal(runId, { key: 'prod/deploy', record: STEP })).toEqual({ recorded: true });
    expect(await journal(runId, { key: 'prod/deploy', record: { type: 'called' } })).toEqual({ recorded: false });
    // Another attempt has its own keys.
    expect(await journal(runId, { key: 'prod/deploy', attempt: 2, record: { type: 'called' } })).toEqual({ recorded: true });
    await park(runId, newRepository(), { gateIds: [], targets: ['never'] });
    const answer = await resume(runId);
    expect(answer.journal.map((entry) => [entry.key, entry.attempt, entry.record.type])).toEqual([['prod/deploy', 1, 'step']]);
    expect(answer.journal[0]?.record).toEqual(STEP);
    expect(answer.journal[0]?.run).toEqual(PARKED_RUN);
  });

  it('keeps a step whose outputs take their 64 KiB whole, past the other routes’ body limit; 413 past its own', async () => {
    const runId = newRunId('journal-big');
    const step = (STEP as Extract<JournalRecord, { type: 'step' }>).step;
    // The largest outputs a decision can carry, under the longest key: the request is larger than MAX_BODY_BYTES.
    const value = 'x'.repeat(MAX_OUTPUTS_BYTES - 200);
    const outputs = { a: value.slice(0, 40_000), b: value.slice(40_000) };
    expect(new TextEncoder().encode(JSON.stringify(outputs)).length).toBeLessThanOrEqual(MAX_OUTPUTS_BYTES);
    const key = `prod/${'k'.repeat(1295)}`;
    const record: JournalRecord = { type: 'step', step: { ...step, outputs } };
    const body = JSON.stringify(journalRequest(runId, { key, record }));
    expect(body.length).toBeGreaterThan(MAX_BODY_BYTES);
    expect(await journal(runId, { key, record })).toEqual({ recorded: true });
    await park(runId, newRepository(), { gateIds: [], targets: ['never'] });
    expect((await resume(runId)).journal[0]?.record).toEqual(record);

    const over = JSON.stringify(journalRequest(newRunId('journal-over'), { record: { type: 'step', step: { ...step, message: 'm'.repeat(MAX_JOURNAL_BODY_BYTES) } } }));
    const refused = await expectError(await postJson('/v1/runs/journal', over), 413, 'payload_too_large');
    expect(refused.message).toContain(`${MAX_JOURNAL_BODY_BYTES} bytes`);
  });

  it('refuses an attempt older than its target’s highest (409 superseded), whatever the other targets', async () => {
    const gate = await register({ runId: newRunId('journal-old'), target: 'eu/prod', stepKey: 'eu/prod/g', attempt: 2 });
    const body = await expectError(await postJson('/v1/runs/journal', journalRequest(gate.runId, { key: 'eu/prod/deploy' })), 409, 'superseded');
    expect(body.message).toContain('attempt 2');
    await expectError(await postJson('/v1/runs/journal', journalRequest(gate.runId, { key: 'eu/prod#end', record: { type: 'target', outcome: 'failed', message: 'x' } })), 409, 'superseded');
    expect(await journal(gate.runId, { key: 'eu/deploy' })).toEqual({ recorded: true });
    expect(await journal(gate.runId, { key: 'eu/prod/deploy', attempt: 2 })).toEqual({ recorded: true });
  });

  it(`refuses a new key past MAX_JOURNAL_ENTRIES (${MAX_JOURNAL_ENTRIES}) with 422; a repeat still answers`, async () => {
    const runId = newRunId('journal-full');
    await journal(runId, { key: 'prod/deploy' });
    await runInObject(runId, (state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO journal (attempt, key, record, run, at) SELECT 1, 'k/' || i, '{"type":"called"}', '{}', 0 FROM n`,
        MAX_JOURNAL_ENTRIES - 1,
      );
    });
    const body = await expectError(await postJson('/v1/runs/journal', journalRequest(runId, { key: 'prod/rollback' })), 422, 'too_many_entries');
    expect(body.message).toContain(String(MAX_JOURNAL_ENTRIES));
    expect(await journal(runId, { key: 'prod/deploy' })).toEqual({ recorded: false });
  });

  it('refuses a caller of another repository (403) and names a bad field (400)', async () => {
    const runId = newRunId('journal-owner');
    const first = await postJson('/v1/runs/journal', journalRequest(runId), await oidcHeaders(REPO_A));
    expect(first.status).toBe(200);
    await expectError(await postJson('/v1/runs/journal', journalRequest(runId, { key: 'x/deploy' }), await oidcHeaders(REPO_B)), 403, 'forbidden');
    const named = `${REPO_A.repository}/deploy-1`;
    await expectError(await postJson('/v1/runs/journal', journalRequest(named), await oidcHeaders(REPO_B)), 403, 'forbidden');
    const bad = { ...journalRequest(runId), record: { type: 'step' } };
    expect((await expectError(await postJson('/v1/runs/journal', bad), 400, 'bad_request')).message).toContain('record');
    const noKey = { ...journalRequest(runId), key: '' };
    expect((await expectError(await postJson('/v1/runs/journal', noKey), 400, 'bad_request')).message).toContain('key');
  });
});

describe('park', () => {
  it('dispatches only into the caller’s own repository, and only into an allowed one', async () => {
    const runId = newRunId('park-where');
    const own = await postJson('/v1/runs/park', parkRequest(runId, REPO_A.repository, { targets: ['never'] }), await oidcHeaders(REPO_A));
    expect(own.status).toBe(200);
    const other = await postJson('/v1/runs/park', parkRequest(runId, 'acme/other'), await oidcHeaders(REPO_A));
    expect((await expectError(other, 403, 'forbidden')).message).toContain('resume.repository');
    const unlisted = await postJson('/v1/runs/park', parkRequest(newRunId('park-where'), 'evil/app'));
    expect((await expectError(unlisted, 403, 'forbidden')).message).toContain('ALLOWED_REPOSITORIES');
    const bad = parkRequest(runId, REPO_A.repository, { resume: { repository: REPO_A.repository, workflow: 'deploy.yml', ref: 'refs/heads/main' } });
    expect((await expectError(await postJson('/v1/runs/park', bad), 400, 'bad_request')).message).toContain('resume.workflow');
  });

  it('replaces the job’s park when it parks again, refuses an older attempt and a new job past MAX_PARKED_JOBS', async () => {
    const runId = newRunId('park-again');
    const repository = newRepository();
    await park(runId, repository, { job: 'prod', targets: ['never'] });
    await resume(runId, { job: 'prod' });
    await park(runId, repository, { job: 'prod', attempt: 2, targets: ['still-never'], run: RESUMED_RUN });
    const [row] = (await runView(runId)).parks;
    expect(row).toMatchObject({ job: 'prod', attempt: 2, state: 'parked', targets: ['still-never'], parkedBy: RESUMED_RUN, claimedBy: null });
    await expectError(await postJson('/v1/runs/park', parkRequest(runId, repository, { job: 'prod', attempt: 1 })), 409, 'superseded');

    await runInObject(runId, (state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO parks (job, run_id, attempt, state, gate_ids, targets, repository, workflow, ref, parked_by, parked_at, updated_at)
         SELECT 'job-' || i, ?, 1, 'closed', '[]', '[]', 'a/b', 'w', 'r', '{}', 0, 0 FROM n`,
        MAX_PARKED_JOBS - 1,
        runId,
      );
    });
    await expectError(await postJson('/v1/runs/park', parkRequest(runId, repository, { job: 'one-more' })), 422, 'too_many_parks');
    expect((await postJson('/v1/runs/park', parkRequest(runId, repository, { job: 'prod', attempt: 2, targets: ['never'] }))).status).toBe(200);
  });
});

describe('resume and unpark', () => {
  it('answers not continuing, with the reason, when nothing is parked', async () => {
    const runId = newRunId('resume-none');
    const answer = await resume(runId, { attempt: 3, requested: true });
    expect(answer).toMatchObject({ continuing: false, attempt: 3, parkedBy: null, journal: [], targets: [] });
    expect(answer.reason).toContain('no parked job');
    expect((await resume(runId, { requested: false })).reason).not.toBeNull();
  });

  it('continues the parked attempt: claims the job’s park and returns the journal and target records', async () => {
    const runId = newRunId('resume');
    const repository = newRepository();
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'succeeded', message: 'ok' });
    await journal(runId, { key: 'staging#end', record: { type: 'target', outcome: 'succeeded', message: 'ok' } });
    await park(runId, repository, { job: 'prod', targets: ['never'] });
    await park(runId, repository, { job: 'eu', targets: ['never'] });

    const answer = await resume(runId, { job: 'prod', attempt: 2 });
    expect(answer).toMatchObject({ continuing: true, attempt: 1, parkedBy: PARKED_RUN, reason: null });
    expect(answer.journal.map((entry) => entry.key)).toEqual(['staging#end']);
    expect(answer.targets.map((record) => [record.target, record.status])).toEqual([['staging', 'succeeded']]);
    const parks = (await runView(runId)).parks;
    expect(parks.map((row) => [row.job, row.state, row.claimedBy?.id ?? null])).toEqual([
      ['prod', 'claimed', RESUMED_RUN.id],
      ['eu', 'parked', null],
    ]);
    // A job that never parked continues too (its journal says how it ended).
    expect((await resume(runId, { job: 'staging' })).continuing).toBe(true);

    // Unparked, nothing continues: a later re-run after a failure is today's re-run.
    for (const job of ['prod', 'eu']) {
      const res = await postJson('/v1/runs/unpark', { runId, job, attempt: 1 });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ job, state: 'closed' });
    }
    expect((await resume(runId, { job: 'prod', attempt: 3 })).continuing).toBe(false);
    expect(await (await postJson('/v1/runs/unpark', { runId, job: 'none', attempt: 1 })).json()).toEqual({ job: 'none', state: null });
  });

  it('refuses to unpark with an older attempt than the park’s, and another repository’s caller', async () => {
    const runId = newRunId('unpark-old');
    await park(runId, newRepository(), { attempt: 2, targets: ['never'] });
    await expectError(await postJson('/v1/runs/unpark', { runId, job: '*', attempt: 1 }), 409, 'superseded');
    const owned = newRunId('unpark-owner');
    expect((await postJson('/v1/runs/park', parkRequest(owned, REPO_A.repository, { targets: ['never'] }), await oidcHeaders(REPO_A))).status).toBe(200);
    await expectError(await postJson('/v1/runs/unpark', { runId: owned, job: '*', attempt: 1 }, await oidcHeaders(REPO_B)), 403, 'forbidden');
    await expectError(await postJson('/v1/runs/resume', { runId: owned, job: '*', attempt: 1, requested: true, run: RESUMED_RUN }, await oidcHeaders(REPO_B)), 403, 'forbidden');
  });
});

describe('the run view', () => {
  it('shows the parks, the latest dispatch and the target records', async () => {
    const runId = newRunId('view');
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'running', message: '' });
    const empty = await runView(runId);
    expect(empty).toEqual({ runId, parks: [], dispatch: null, targets: [expect.objectContaining({ target: 'staging', status: 'running' })] });
    await park(runId, newRepository(), { targets: ['staging'] });
    expect((await runView(runId)).parks).toEqual([
      expect.objectContaining({ job: '*', attempt: 1, state: 'parked', gateIds: [], targets: ['staging'], parkedBy: PARKED_RUN, claimedBy: null }),
    ]);
  });

  it('needs run= and the run’s owner', async () => {
    await expectError(await SELF.fetch(`${BASE}/v1/runs`, { headers: authHeaders() }), 400, 'bad_request');
    const runId = newRunId('view-owner');
    expect((await postJson('/v1/runs/journal', journalRequest(runId), await oidcHeaders(REPO_A))).status).toBe(200);
    const res = await SELF.fetch(`${BASE}/v1/runs?run=${encodeURIComponent(runId)}`, { headers: await oidcHeaders(REPO_B) });
    await expectError(res, 403, 'forbidden');
    await expectError(await SELF.fetch(`${BASE}/v1/runs?run=${encodeURIComponent(runId)}`), 401, 'unauthorized');
  });
});
