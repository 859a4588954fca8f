/**
 * Only the approval page decides an approval gate (issue 10 §3). The relay mints a callback URI
 * for every gate and its registration answer carries it, approval gates included; the action never
 * hands that one out, but whoever reads it (a relay operator's script, a leaked answer) must not
 * decide the gate with it, bypassing the page's form, anti-forgery token and approver name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegisterGateResponse } from '../../shared/protocol.ts';
import { runIdOf, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { postCallback } from './scripted-system.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function registerApproval(runId: string): Promise<RegisterGateResponse> {
  const response = await fetch(`${h.relay.url}/v1/gates`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.relay.relayToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ runId, stepKey: 'attempt-1/prod/beforeDeployment/0/pause', target: 'prod', phase: 'beforeDeployment', name: 'Sign-off', timeoutSeconds: 600, kind: 'approval' }),
  });
  expect(response.status).toBe(201);
  return RegisterGateResponse.parse(await response.json());
}

/** The callback URI with the first character of its token's MAC changed: a token that verifies nothing. */
function forged(uri: string): string {
  const at = uri.lastIndexOf('.') + 1;
  return uri.slice(0, at) + (uri[at] === 'A' ? 'B' : 'A') + uri.slice(at + 1);
}

describe('an approval gate’s callback URI', () => {
  it('decides nothing: 404 exactly as a forged token, and the gate stays pending on its page', async () => {
    const runId = runIdOf('approval-callback');
    const gate = await registerApproval(runId);
    expect(gate.approvalUrl).not.toBeNull();

    const forgedAnswer = await postCallback(forged(gate.callbackUri), { success: true, mdMessage: 'approved by a script' });
    expect(forgedAnswer.status).toBe(404);
    // The approval link's token names the same gate, for the other purpose.
    const approvalToken = new URL(gate.approvalUrl ?? '').pathname.split('/').at(-1) ?? '';
    for (const uri of [gate.callbackUri, `${gate.callbackUri}/callback`, `${h.relay.url}/cb/${approvalToken}`]) {
      for (const body of [{ success: true, mdMessage: 'approved by a script' }, { success: false }, { progress: true, mdMessage: 'note' }]) {
        const answer = await postCallback(uri, body);
        expect({ status: answer.status, answer: answer.answer }, `${JSON.stringify(body)} to ${uri}`).toEqual({ status: 404, answer: forgedAnswer.answer });
      }
    }

    const polled = await fetch(`${h.relay.url}/v1/gates/${gate.gateId}?run=${encodeURIComponent(runId)}`, {
      headers: { authorization: `Bearer ${h.relay.relayToken}` },
    });
    expect(await polled.json()).toMatchObject({ state: 'pending', message: null, decidedBy: null, progress: [] });
    const page = await (await fetch(gate.approvalUrl ?? '')).text();
    expect(page).toContain('<form');
    expect(page).toContain('Approve Sign-off');
    expect(page).not.toContain('approved by a script');
  });
});
