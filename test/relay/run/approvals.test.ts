/**
 * Signed-in decisions in the run object (relay/run/approvals.ts through RunObject.approve):
 * one row per person per gate, rejections and counting, the row bound, and gates stored before
 * schema step 6 (no policy: one approval decides).
 */
import { evictDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { MAX_APPROVALS_PER_GATE } from '../../../relay/run/approvals.ts';
import type { ApprovalDecision } from '../../../relay/run/results.ts';
import { getGate, registerApproval, runInObject, runStub } from '../helpers.ts';
import { undoStep8 } from './stored.ts';

function as(login: string, id: string, approved = true, comment = ''): ApprovalDecision {
  return { approved, comment, approver: 'ignored when signed in', person: { id, login } };
}

describe('RunObject.approve with a signed-in person', () => {
  it('keeps one decision per person (by GitHub id, whatever the login) and decides at minimumApprovals', async () => {
    const gate = await registerApproval({ approval: { approvers: ['a', 'b', 'c'], minimumApprovals: 3 } });
    const stub = runStub(gate.request.runId);
    expect(await stub.approve(gate.gateId, as('a', '1', true, 'first'))).toMatchObject({ ok: true, gate: { state: 'pending', decidedBy: null } });
    expect(await stub.approve(gate.gateId, as('a-renamed', '1', false))).toMatchObject({ ok: false, reason: 'duplicate', vote: { login: 'a', approved: true } });
    expect(await stub.approve(gate.gateId, as('b', '2'))).toMatchObject({ ok: true, gate: { state: 'pending' } });
    const page = await stub.approvalPage(gate.gateId);
    expect(page?.votes?.map((vote) => [vote.login, vote.approved])).toEqual([['a', true], ['b', true]]);
    expect(page?.policy).toMatchObject({ minimumApprovals: 3 });
    expect(await stub.approve(gate.gateId, as('c', '3', true, 'third'))).toMatchObject({
      ok: true,
      gate: { state: 'succeeded', decidedBy: '@a, @b, @c', message: '@a: first\n\n@c: third' },
    });
    expect(await stub.approve(gate.gateId, as('d', '4'))).toMatchObject({ ok: false, reason: 'conflict' });
  });

  it('rejects on the first rejection, with the rejecter as decidedBy and their comment', async () => {
    const gate = await registerApproval({ approval: { approvers: ['a', 'b'], minimumApprovals: 2 } });
    const stub = runStub(gate.request.runId);
    await stub.approve(gate.gateId, as('a', '1'));
    expect(await stub.approve(gate.gateId, as('b', '2', false, ' no '))).toMatchObject({
      ok: true,
      gate: { state: 'failed', decidedBy: '@b', message: 'no' },
    });
  });

  it('still decides anonymously at once without a person, as before sign-in', async () => {
    const gate = await registerApproval({ approval: { approvers: ['a'], minimumApprovals: 2 } });
    expect(await runStub(gate.request.runId).approve(gate.gateId, { approved: true, comment: '', approver: ' Ada ' })).toMatchObject({
      ok: true,
      gate: { state: 'succeeded', decidedBy: 'Ada' },
    });
  });

  it(`refuses a decision past ${MAX_APPROVALS_PER_GATE} rows of one gate, recording nothing`, async () => {
    const gate = await registerApproval({ approval: { approvers: [], minimumApprovals: 10 } });
    await runInObject(gate.request.runId, (state) => {
      for (let i = 0; i < MAX_APPROVALS_PER_GATE; i += 1) {
        state.storage.sql.exec('INSERT INTO approvals (gate_id, user_id, login, approved, comment, at) VALUES (?, ?, ?, 1, ?, ?)', gate.gateId, `9${i}`, `u${i}`, '', i);
      }
    });
    expect(await runStub(gate.request.runId).approve(gate.gateId, as('late', '1'))).toEqual({ ok: false, reason: 'too-many-approvals', count: MAX_APPROVALS_PER_GATE });
    expect((await getGate(gate.request.runId, gate.gateId)).state).toBe('pending');
  });

  it('decides a gate stored before schema step 6 at the first signed-in approval (no policy: one approval)', async () => {
    const gate = await registerApproval();
    const runId = gate.request.runId;
    await runInObject(runId, (state) => {
      undoStep8(state);
      state.storage.sql.exec('DROP TABLE protection_requests');
      state.storage.sql.exec('DROP TABLE approvals');
      state.storage.sql.exec('ALTER TABLE gates DROP COLUMN approval');
      state.storage.sql.exec('UPDATE schema_version SET version = 5');
    });
    await evictDurableObject(runStub(runId));
    expect((await runStub(runId).approvalPage(gate.gateId))?.policy).toBeNull();
    expect(await runStub(runId).approve(gate.gateId, as('mona', '7'))).toMatchObject({ ok: true, gate: { state: 'succeeded', decidedBy: '@mona' } });
  });
});
