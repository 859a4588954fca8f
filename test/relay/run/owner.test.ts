/**
 * Run ownership (relay/run/owner.ts, SPEC §6): a run is its first writer's repository's, by
 * repository_id; another repository's OIDC token can neither read nor change it; RELAY_TOKEN can.
 */
import { describe, expect, it } from 'vitest';
import { CancelRunResponse, GateView, RegisterGateResponse, TargetRecord } from '../../../shared/protocol.ts';
import {
  authHeaders,
  decide,
  expectError,
  fetchGate,
  fetchTarget,
  gateRequest,
  getGate,
  getTarget,
  newRunId,
  postCancel,
  postRegister,
  postTarget,
  runInObject,
} from '../helpers.ts';
import { oidcHeaders, REPO_A, REPO_B } from '../oidc.ts';
import type { Repo } from '../oidc.ts';
import { tableNames } from './stored.ts';

/** Registers a gate as `repo`'s job; 201 expected. */
async function registerAs(repo: Repo, runId = newRunId(), stepKey = 'staging/beforeDeployment/0/Check'): Promise<RegisterGateResponse> {
  const res = await postRegister(gateRequest({ runId, stepKey }), await oidcHeaders(repo));
  expect(res.status).toBe(201);
  return RegisterGateResponse.parse(await res.json());
}

async function expectNotYours(res: Response, runId: string): Promise<void> {
  const body = await expectError(res, 403, 'forbidden');
  expect(body.message).toBe(`run ${runId} belongs to another repository`);
}

function gateCount(runId: string): Promise<number> {
  return runInObject(runId, (state) => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM gates').one().n);
}

describe('a run created with an OIDC token', () => {
  it('refuses another repository on every action route and stays as it was', async () => {
    const gate = await registerAs(REPO_A);
    const runId = gate.runId;
    const report = { runId, target: 'staging', attempt: 1, status: 'running' as const, message: 'deploying' };
    expect((await postTarget(report, await oidcHeaders(REPO_A))).status).toBe(200);
    const b = await oidcHeaders(REPO_B);

    await expectNotYours(await postRegister(gateRequest({ runId, stepKey: 'b/step' }), b), runId);
    await expectNotYours(await postRegister(gateRequest({ runId, stepKey: gate.stepKey }), b), runId);
    await expectNotYours(await fetchGate(runId, gate.gateId, undefined, b), runId);
    const started = Date.now();
    await expectNotYours(await fetchGate(runId, gate.gateId, 5, b), runId);
    expect(Date.now() - started).toBeLessThan(2000);
    await expectNotYours(await postCancel({ runId }, b), runId);
    await expectNotYours(await postCancel({ runId, gateIds: [gate.gateId] }, b), runId);
    await expectNotYours(await postTarget({ ...report, status: 'failed' }, b), runId);
    await expectNotYours(await fetchTarget(runId, 'staging', undefined, b), runId);
    await expectNotYours(await fetchTarget(runId, 'staging', 5, b), runId);

    expect(await gateCount(runId)).toBe(1);
    expect(GateView.parse(await getGate(runId, gate.gateId))).toMatchObject({ state: 'pending', progress: [] });
    expect(await getTarget(runId, 'staging')).toMatchObject({ status: 'running', message: 'deploying' });
  });

  it('serves its own repository on every action route', async () => {
    const gate = await registerAs(REPO_A);
    const runId = gate.runId;
    const a = await oidcHeaders(REPO_A);
    expect((await postRegister(gateRequest({ runId, stepKey: 'second' }), a)).status).toBe(201);
    expect((await fetchGate(runId, gate.gateId, undefined, a)).status).toBe(200);
    expect((await postTarget({ runId, target: 'staging', attempt: 1, status: 'running' }, a)).status).toBe(200);
    expect((await fetchTarget(runId, 'staging', undefined, a)).status).toBe(200);
    const cancel = await postCancel({ runId }, a);
    expect(cancel.status).toBe(200);
    expect(CancelRunResponse.parse(await cancel.json()).canceled).toContain(gate.gateId);
  });

  it('follows the repository by id: a renamed repository keeps its run, a new one under the old name does not', async () => {
    const gate = await registerAs(REPO_A);
    const renamed = await oidcHeaders({ repository: REPO_B.repository, repositoryId: REPO_A.repositoryId });
    expect((await fetchGate(gate.runId, gate.gateId, undefined, renamed)).status).toBe(200);
    const reused = await oidcHeaders({ repository: REPO_A.repository, repositoryId: '999999' });
    await expectNotYours(await fetchGate(gate.runId, gate.gateId, undefined, reused), gate.runId);
  });

  it('lets RELAY_TOKEN, the operator’s credential, read and change it', async () => {
    const gate = await registerAs(REPO_A);
    const runId = gate.runId;
    expect((await fetchGate(runId, gate.gateId)).status).toBe(200);
    expect((await postRegister(gateRequest({ runId, stepKey: 'by-operator' }))).status).toBe(201);
    expect((await postTarget({ runId, target: 'staging', attempt: 1, status: 'failed' })).status).toBe(200);
    expect((await postCancel({ runId })).status).toBe(200);
    // The run is still A's, not the operator's.
    expect((await fetchGate(runId, gate.gateId, undefined, await oidcHeaders(REPO_A))).status).toBe(200);
    await expectNotYours(await fetchGate(runId, gate.gateId, undefined, await oidcHeaders(REPO_B)), runId);
  });

  it('keeps callback URIs working for whoever holds them', async () => {
    const gate = await registerAs(REPO_A);
    await decide(gate.callbackUri, { success: true, mdMessage: 'from the external system' });
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('succeeded');
  });
});

describe('a run created with RELAY_TOKEN', () => {
  it('refuses every OIDC token, even of an allowed repository', async () => {
    const res = await postRegister(gateRequest(), authHeaders());
    const gate = RegisterGateResponse.parse(await res.json());
    const a = await oidcHeaders(REPO_A);
    await expectNotYours(await fetchGate(gate.runId, gate.gateId, undefined, a), gate.runId);
    await expectNotYours(await postRegister(gateRequest({ runId: gate.runId, stepKey: 'a' }), a), gate.runId);
    await expectNotYours(await postCancel({ runId: gate.runId }, a), gate.runId);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });
});

describe('an unowned run', () => {
  it('can be read by anyone admitted, and belongs to its first writer', async () => {
    const runId = newRunId();
    const read = await fetchTarget(runId, 'staging', undefined, await oidcHeaders(REPO_A));
    expect(TargetRecord.parse(await read.json())).toMatchObject({ status: 'unknown' });
    // The read claimed nothing: B writes first and owns the run.
    await registerAs(REPO_B, runId);
    await expectNotYours(await fetchTarget(runId, 'staging', undefined, await oidcHeaders(REPO_A)), runId);
  });

  it('is claimed by a first cancel or report too', async () => {
    const canceled = newRunId();
    expect((await postCancel({ runId: canceled }, await oidcHeaders(REPO_A))).status).toBe(200);
    await expectNotYours(await postRegister(gateRequest({ runId: canceled }), await oidcHeaders(REPO_B)), canceled);
    const reported = newRunId();
    const report = { runId: reported, target: 'staging', attempt: 1, status: 'running' };
    expect((await postTarget(report, await oidcHeaders(REPO_B))).status).toBe(200);
    await expectNotYours(await postTarget(report, await oidcHeaders(REPO_A)), reported);
  });

  it('goes to exactly one of two repositories registering at once', async () => {
    const runId = newRunId();
    const [a, b] = [await oidcHeaders(REPO_A), await oidcHeaders(REPO_B)];
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => postRegister(gateRequest({ runId, stepKey: `step-${i}` }), i % 2 === 0 ? a : b)),
    );
    const statuses = answers.map((res) => res.status);
    const aWon = statuses[0] === 201;
    expect(statuses).toEqual(Array.from({ length: 6 }, (_, i) => ((i % 2 === 0) === aWon ? 201 : 403)));
    expect(await gateCount(runId)).toBe(3);
  });
});

describe('a run id of the form owner/repo/…', () => {
  it('is refused to every other repository on every action route, even before anyone wrote to it', async () => {
    const runId = `${REPO_A.repository}/${crypto.randomUUID()}`;
    const b = await oidcHeaders(REPO_B);
    const report = { runId, target: 'staging', attempt: 1, status: 'running' as const };
    await expectNotYours(await postRegister(gateRequest({ runId }), b), runId);
    await expectNotYours(await postTarget(report, b), runId);
    await expectNotYours(await postCancel({ runId }, b), runId);
    await expectNotYours(await fetchTarget(runId, 'staging', undefined, b), runId);
    await expectNotYours(await fetchGate(runId, 'AAAAAAAAAAAAAAAAAAAAAA', undefined, b), runId);
    // Not even the tables: the refusals stored nothing.
    expect(await tableNames(runId)).toEqual([]);

    // The squatter claimed nothing: the repository the id names still owns its run.
    const gate = await registerAs(REPO_A, runId);
    expect((await postTarget(report, await oidcHeaders(REPO_A))).status).toBe(200);
    await expectNotYours(await fetchGate(runId, gate.gateId, undefined, b), runId);
  });

  it('compares the repository without case, as GitHub does, and leaves RELAY_TOKEN every run', async () => {
    const runId = `ACME/Potato-Facts/${crypto.randomUUID()}`;
    const gate = await registerAs(REPO_A, runId);
    expect((await fetchGate(runId, gate.gateId)).status).toBe(200);
    const operatorRun = `${REPO_A.repository}/${crypto.randomUUID()}`;
    expect((await postRegister(gateRequest({ runId: operatorRun }))).status).toBe(201);
    const othersRun = `acme/other-repo/${crypto.randomUUID()}`;
    await expectNotYours(await postRegister(gateRequest({ runId: othersRun }), await oidcHeaders(REPO_A)), othersRun);
  });
});
