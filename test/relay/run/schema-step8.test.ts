/** Schema step 8 (relay/run/schema.ts, issue 13): a run stored by the relay before it upgrades in place. */
import { evictDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { decide, getGate, openApproval, register, registerApproval, runInObject, runStub, RUN_INFO } from '../helpers.ts';
import { undoStep8 } from './stored.ts';

describe('the upgrade to outputs, heartbeats and the graph (step 8)', () => {
  it('reads gates stored before it as without outputs or heartbeat, and stores them after', async () => {
    const approval = await registerApproval();
    const pending = await register({ runId: approval.runId, target: 'prod', stepKey: 'prod/pending' });
    const decided = await register({ runId: approval.runId, target: 'prod', stepKey: 'prod/decided' });
    await decide(decided.callbackUri, { success: true, mdMessage: 'before the upgrade' });
    await runInObject(approval.runId, undoStep8);
    await evictDurableObject(runStub(approval.runId));

    expect(await getGate(approval.runId, decided.gateId)).toMatchObject({ state: 'succeeded', outputs: null, heartbeatSeconds: null, lastHeardAt: null });
    const version = await runInObject(approval.runId, (state) => state.storage.sql.exec<{ version: number }>('SELECT version FROM schema_version').one().version);
    expect(version).toBe(10);
    await decide(pending.callbackUri, { success: true, outputs: { after: 'the upgrade' } });
    expect((await getGate(approval.runId, pending.gateId)).outputs).toEqual({ after: 'the upgrade' });
    // The run's description stored before has no graph: the page is as it was, until a registration sends one.
    expect((await openApproval(approval.approvalUrl)).html).not.toContain('id="deployment"');
    await register({ runId: approval.runId, target: 'prod', stepKey: 'prod/more', run: { ...RUN_INFO, graph: [{ name: 'prod', dependsOn: [] }] } });
    expect((await openApproval(approval.approvalUrl)).html).toContain('id="deployment"');
  });
});
