/**
 * The run object's approvalPage (relay/run/object.ts, store.ts): it reads only what one page shows
 * (relay/run/page-limits.ts), so a target's stored gates and reports never cross the RPC whole.
 */
import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARS } from '../../../shared/protocol.ts';
import { truncateCodePoints } from '../../../shared/text.ts';
import { decide, newRunId, openApproval, register, registerApproval, runStub } from '../helpers.ts';
import type { RegisterGateResponse } from '../../../shared/protocol.ts';

/** What the object reads of a message: one code point past the 2,000 a page shows, so the page can say it cut. */
const READ_CODE_POINTS = 2001;

/** A message of MAX_MESSAGE_CHARS code points that is emoji from its 5th to past its 2,001st: a cut by UTF-16 units would split one. */
function longMessage(label: string): string {
  return truncateCodePoints(`${label.padEnd(4)}${'🚀'.repeat(3000)}${'x'.repeat(MAX_MESSAGE_CHARS)}`, MAX_MESSAGE_CHARS);
}

describe('RunObject.approvalPage', () => {
  it('carries each gate with only its 5 latest reports, every message cut to 2,001 code points, whatever is stored', async () => {
    const approval = await registerApproval();
    const ticket = await register({ runId: approval.runId, target: 'prod', stepKey: 'prod/ticket' });
    for (let seq = 1; seq <= 50; seq += 1) {
      await decide(ticket.callbackUri, { progress: true, mdMessage: longMessage(`#${seq}`) });
    }
    await decide(ticket.callbackUri, { success: false, mdMessage: longMessage('no') });

    const page = await runStub(approval.runId).approvalPage(approval.gateId);
    expect(page?.gate).toMatchObject({ gateId: approval.gateId, state: 'pending' });
    expect(page?.gates.map((gate) => gate.gateId)).toEqual([approval.gateId, ticket.gateId]);
    const shown = page?.gates[1];
    expect(shown?.state).toBe('failed');
    expect(shown?.message).toBe(truncateCodePoints(longMessage('no'), READ_CODE_POINTS));
    expect(shown?.progress.map((report) => report.seq)).toEqual([46, 47, 48, 49, 50]);
    for (const report of shown?.progress ?? []) {
      expect(report.message.isWellFormed()).toBe(true);
      expect(report.message).toBe(truncateCodePoints(longMessage(`#${report.seq}`), READ_CODE_POINTS));
    }
    // Stored whole: 51 messages of 16 Ki code points, about a million characters of JSON; bounded: 6 of 2,001.
    expect(JSON.stringify(page).length).toBeLessThan(60_000);

    const { res, html } = await openApproval(approval.approvalUrl);
    expect(res.status).toBe(200);
    expect(html).toContain('45 earlier reports not shown');
    expect(html).toContain('(truncated: the whole message is in the run’s log)');
  });

  it('carries short messages and few reports whole', async () => {
    const approval = await registerApproval();
    const ticket = await register({ runId: approval.runId, target: 'prod', stepKey: 'prod/ticket' });
    const exact = '🚀'.repeat(READ_CODE_POINTS);
    await decide(ticket.callbackUri, { progress: true, mdMessage: 'migrating 1/2' });
    await decide(ticket.callbackUri, { progress: true, mdMessage: exact });
    const page = await runStub(approval.runId).approvalPage(approval.gateId);
    expect(page?.gates[1]?.progress.map((report) => [report.seq, report.message])).toEqual([
      [1, 'migrating 1/2'],
      [2, exact],
    ]);
    expect(page?.gates[1]?.message).toBeNull();
  });

  it('carries only the 10 gates around this one of a 30-gate target, and counts those left out before and after', async () => {
    const runId = newRunId('window');
    // Registered in order: creation order puts the approval 21st, with 20 gates before it and 9 after.
    const gates: RegisterGateResponse[] = [];
    for (let index = 0; index < 30; index += 1) {
      const check = { runId, target: 'prod', stepKey: `prod/${index}/Check`, name: `Check-${index}` };
      gates.push(index === 20 ? await registerApproval({ runId, stepKey: 'prod/20/approval' }) : await register(check));
    }
    await register({ runId, target: 'staging', stepKey: 'staging/0/Check' });
    const approval = gates[20];
    if (approval?.approvalUrl == null) throw new Error('the 21st gate is the approval');

    const page = await runStub(runId).approvalPage(approval.gateId);
    expect(page?.gate.gateId).toBe(approval.gateId);
    expect(page?.gates.map((gate) => gate.gateId)).toEqual(gates.slice(15, 25).map((gate) => gate.gateId));
    expect(page).toMatchObject({ hiddenBefore: 15, hiddenAfter: 5 });

    const { html } = await openApproval(approval.approvalUrl);
    expect(html).toContain('15 earlier gates not shown');
    expect(html).toContain('5 later gates not shown');
    expect(html).toContain('<strong>Check-24</strong>');
    expect(html).not.toContain('<strong>Check-25</strong>');
  });
});
