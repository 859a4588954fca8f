/**
 * The run object's approvalPage (relay/run/object.ts, store.ts): it reads only what one page shows
 * (relay/run/page-limits.ts), so a target's stored reports never cross the RPC whole.
 */
import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARS } from '../../../shared/protocol.ts';
import { truncateCodePoints } from '../../../shared/text.ts';
import { decide, openApproval, register, registerApproval, runStub } from '../helpers.ts';

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
});
