/** What the approval page shows of its target's webhook gates since issue 13: their outputs and when they were last heard. */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { authHeaders, BASE, decide, getGate, openApproval, register, registerApproval, runStub } from '../helpers.ts';

/** The page's outputs tables, each as [key, value text] rows. */
function outputTables(html: string): string[][][] {
  return [...html.matchAll(/<table class="outputs">([\s\S]*?)<\/table>/g)].map((table) =>
    [...(table[1] ?? '').matchAll(/<tr><th scope="row"><code>([^<]*)<\/code><\/th><td>([\s\S]*?)<\/td><\/tr>/g)].map((row) => [row[1] ?? '', row[2] ?? '']),
  );
}

describe('the approval page', () => {
  it('shows a decided gate’s outputs as text, escaped, long values cut', async () => {
    const approval = await registerApproval();
    const ticket = await register({ runId: approval.runId, target: 'prod', stepKey: 'prod/ticket', name: 'Ticket' });
    const outputs = { ticket: 'CHG-42', html: '<script>alert(1)</script>&"', count: 3, ok: false, long: `${'🚀'.repeat(119)}xyz` };
    await decide(ticket.callbackUri, { success: true, outputs });
    const { html } = await openApproval(approval.approvalUrl);
    expect(outputTables(html)).toEqual([
      [
        ['ticket', 'CHG-42'],
        ['html', '&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;'],
        ['count', '3'],
        ['ok', 'false'],
        ['long', `${'🚀'.repeat(119)}… <span class="note">(cut)</span>`],
      ],
    ]);
    expect(html).not.toContain('<script>');
    // The gate itself keeps the whole value.
    expect((await getGate(ticket.runId, ticket.gateId)).outputs).toEqual(outputs);
  });

  it('shows a value of exactly 120 code points whole, and no table for a gate without outputs', async () => {
    const approval = await registerApproval();
    const ticket = await register({ runId: approval.runId, target: 'prod', stepKey: 'prod/ticket' });
    const plain = await register({ runId: approval.runId, target: 'prod', stepKey: 'prod/plain' });
    await decide(ticket.callbackUri, { success: true, outputs: { exact: '🚀'.repeat(120) } });
    await decide(plain.callbackUri, { success: true });
    const { html } = await openApproval(approval.approvalUrl);
    expect(outputTables(html)).toEqual([[['exact', '🚀'.repeat(120)]]]);
    expect(html).not.toContain('More outputs not shown');
  });

  it('shows at most 20 outputs of a gate, saying there are more; the page’s data carries 21', async () => {
    const approval = await registerApproval();
    const ticket = await register({ runId: approval.runId, target: 'prod', stepKey: 'prod/ticket' });
    const outputs = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'.repeat(1000)]));
    await decide(ticket.callbackUri, { success: true, outputs });
    const { html } = await openApproval(approval.approvalUrl);
    const [table] = outputTables(html);
    expect(table?.map(([key]) => key)).toEqual(Array.from({ length: 20 }, (_, i) => `k${i}`));
    expect(html).toContain('More outputs not shown: the action’s <code>outputs</code> output has them all.');
    const page = await runStub(approval.runId).approvalPage(approval.gateId);
    const carried = page?.gates.find((gate) => gate.gateId === ticket.gateId)?.outputs ?? {};
    expect(Object.keys(carried)).toHaveLength(21);
    expect(Object.values(carried).every((value) => value === 'v'.repeat(121))).toBe(true);
  });

  it('says when a pending gate with a heartbeat was last heard, and what it allows', async () => {
    const approval = await registerApproval();
    const ticket = await register({ runId: approval.runId, target: 'prod', stepKey: 'prod/ticket', heartbeatSeconds: 300 });
    const before = (await openApproval(approval.approvalUrl)).html;
    expect(before).toContain('Once its webhook is called, it fails if nothing is heard for 5 minutes (heartbeatTimeout).');
    const res = await SELF.fetch(`${BASE}/v1/gates/called`, {
      method: 'POST',
      headers: authHeaders(),
      body: JSON.stringify({ runId: ticket.runId, gateId: ticket.gateId }),
    });
    expect(res.status).toBe(200);
    const heard = (await getGate(ticket.runId, ticket.gateId)).lastHeardAt ?? 0;
    const iso = new Date(heard).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const after = (await openApproval(approval.approvalUrl)).html;
    expect(after).toContain(`Last heard <time>${iso}</time>; it fails if nothing is heard for 5 minutes (heartbeatTimeout).`);
    await decide(ticket.callbackUri, { success: true });
    expect((await openApproval(approval.approvalUrl)).html).not.toContain('Last heard');
  });

  it('says nothing of heartbeats for a gate without one', async () => {
    const approval = await registerApproval();
    await register({ runId: approval.runId, target: 'prod', stepKey: 'prod/ticket' });
    const { html } = await openApproval(approval.approvalUrl);
    expect(html).not.toContain('heartbeatTimeout');
  });
});
