/** Who may use the deploy queue's routes, and what they must send: the action's credential, its own repository, valid bodies. */
import { describe, expect, it } from 'vitest';
import { SELF } from 'cloudflare:test';
import { BASE, decide, expectError, newRunId, register, runInObject } from './helpers.ts';
import { oidcHeaders, REPO_A, REPO_B } from './oidc.ts';
import { enterRequest, newQueue, postQueue, queueCall } from './queue-helpers.ts';

describe('the deploy queue’s routes', () => {
  it('take a job’s OIDC token for its own repository’s queue', async () => {
    const key = newQueue(REPO_A.repository.toUpperCase());
    const res = await postQueue('enter', enterRequest(key, newRunId()), await oidcHeaders(REPO_A));
    expect(res.status).toBe(200);
  });

  it('refuse another repository’s queue to a job’s OIDC token (403 naming the field)', async () => {
    const key = newQueue(REPO_A.repository);
    for (const route of ['enter', 'renew', 'leave'] as const) {
      const body = route === 'enter' ? enterRequest(key, newRunId()) : { ...key, runId: newRunId() };
      const res = await postQueue(route, body, await oidcHeaders(REPO_B));
      expect((await expectError(res, 403, 'forbidden')).message).toMatch(/^repository: acme\/potato-facts is not the repository/);
    }
    const query = new URLSearchParams({ ...key, run: newRunId() });
    const res = await SELF.fetch(`${BASE}/v1/queue?${query}`, { headers: await oidcHeaders(REPO_B) });
    await expectError(res, 403, 'forbidden');
  });

  it('refuse a run id that names another repository to a job’s OIDC token', async () => {
    const key = newQueue(REPO_B.repository);
    const res = await postQueue('enter', enterRequest(key, `${REPO_A.repository}/42`), await oidcHeaders(REPO_B));
    await expectError(res, 403, 'forbidden');
  });

  it('refuse a caller without a credential (401)', async () => {
    const res = await postQueue('enter', enterRequest(newQueue(), newRunId()), { 'content-type': 'application/json' });
    await expectError(res, 401, 'unauthorized');
  });

  it('refuse bad bodies with a 400 naming the field', async () => {
    const key = newQueue();
    const cases: [unknown, RegExp][] = [
      [{ ...enterRequest(key, newRunId()), strategy: 'enqueueAll' }, /^strategy: /],
      [{ ...enterRequest(key, newRunId()), targets: [] }, /^targets: /],
      [{ ...enterRequest(key, newRunId()), repository: 'not a repository' }, /^repository: must be owner\/repository/],
      [{ ...enterRequest(key, newRunId()), wakeGateId: 'short' }, /^wakeGateId: /],
      ['{"repository":', /not JSON/],
    ];
    for (const [body, message] of cases) {
      const res = await postQueue('enter', body);
      expect((await expectError(res, 400, 'bad_request')).message).toMatch(message);
    }
    const res = await postQueue('leave', { ...key, runId: newRunId(), target: '' });
    expect((await expectError(res, 400, 'bad_request')).message).toMatch(/^target: /);
    const get = await SELF.fetch(`${BASE}/v1/queue?repository=acme/app`, { headers: { authorization: 'Bearer test-relay-token' } });
    expect((await expectError(get, 400, 'bad_request')).message).toMatch(/^application: /);
  });

  it('refuse a wake gate that is not a webhook gate of the caller’s run', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a));
    const other = await register({ runId: a, stepKey: 'attempt-1/staging/#queue/deploy queue', name: 'deploy queue' });
    const res = await postQueue('enter', enterRequest(key, b, { wakeGateId: other.gateId }));
    expect((await expectError(res, 400, 'bad_request')).message).toMatch(/^wakeGateId: .* is not the 'deploy queue' webhook gate \(phase beforeDeployment, attempt 1\) of run /);
    const approval = await register({ runId: b, stepKey: 'approval', kind: 'approval', name: 'approval' });
    const refused = await postQueue('enter', enterRequest(key, b, { wakeGateId: approval.gateId }));
    await expectError(refused, 400, 'bad_request');
  });

  it('refuse as a wake gate a deploy step’s webhook gate, a queue gate of another attempt, or a decided one', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a));
    const step = await register({ runId: b });
    const queueGate = await register({ runId: b, stepKey: 'attempt-1/staging/#queue/deploy queue', name: 'deploy queue' });
    for (const [gateId, attempt] of [[step.gateId, 1], [queueGate.gateId, 2]] as const) {
      const res = await postQueue('enter', enterRequest(key, b, { wakeGateId: gateId, attempt }));
      expect((await expectError(res, 400, 'bad_request')).message).toMatch(/^wakeGateId: .* is not the 'deploy queue' webhook gate/);
    }
    await decide(queueGate.callbackUri, { success: false });
    const decided = await postQueue('enter', enterRequest(key, b, { wakeGateId: queueGate.gateId }));
    expect((await expectError(decided, 400, 'bad_request')).message).toMatch(/^wakeGateId: .* is already failed; /);
    expect((await queueCall('enter', enterRequest(key, b))).position).toBe('waiting');
  });

  it('refuse a wake gate of a run the relay does not know, without creating that run’s storage', async () => {
    const key = newQueue();
    const [a, b] = [newRunId('a'), newRunId('b')];
    await queueCall('enter', enterRequest(key, a));
    const res = await postQueue('enter', enterRequest(key, b, { wakeGateId: 'g'.repeat(22) }));
    expect((await expectError(res, 400, 'bad_request')).message).toMatch(/^wakeGateId: /);
    const stored = await runInObject(b, (state) => state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'").one().n);
    expect(stored).toBe(0);
  });
});
