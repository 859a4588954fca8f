/**
 * Decision outputs end to end (SPEC §11): a callback's `outputs` and an approval's decision reach the
 * later steps of the target as `{{outputs.<step>.<key>}}`, the `outputs` action output and the report,
 * through the real relay and `node dist/index.js`. Outputs are the system's text: data where they land
 * (percent-encoded in a URL, escaped in a JSON body), never rendered again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_LINE, decideByForm } from '../support/approval-form.ts';
import { SECRET, callbackUriOf, reportOf, secretFree, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { postCallback } from './scripted-system.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const TESTS_THEN_ANNOUNCE = `
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Run-Tests }
      afterDeployment:
        - runWebhook: { name: Announce }
webhooks:
  - name: Run-Tests
    uriTemplate: "EXTERNAL/hooks/Run-Tests?decision=none"
    headers:
      - { key: Authorization, value: "Bearer {{secrets.api_token}}" }
    bodyTemplate:
      inline: '{"callbackUri": "{{armory.callbackUri}}/callback"}'
  - name: Announce
    uriTemplate: "EXTERNAL/hooks/Announce?build={{outputs.Run-Tests.build}}"
    bodyTemplate:
      inline: '{"build": "{{outputs.Run-Tests.build}}", "passed": {{outputs.Run-Tests.passed}}, "count": {{outputs.Run-Tests.count}}, "note": "{{outputs.Run-Tests.note}}"}'
    disableCallback: true
`;

describe('a callback’s outputs', () => {
  it('feed a later step’s request, the outputs output and the report', async () => {
    const ws = await h.workspace(TESTS_THEN_ANNOUNCE);
    const action = await ws.start();
    await action.waitForOutput(/Waiting for the callback of Run-Tests/);
    // `{{…}}` in a value is the system's text: sent as it is, never rendered again (no secret pulled in).
    const outputs = { build: 'b-17', passed: true, count: 412, note: '{{secrets.api_token}}' };
    const answer = await postCallback(callbackUriOf(h.external, '/hooks/Run-Tests'), { success: true, mdMessage: 'green', outputs });
    expect(answer.status, JSON.stringify(answer.answer)).toBe(200);
    const run = await action.done;

    expect(run.exitCode, run.stdout).toBe(0);
    const announce = h.external.webhooks.find((w) => w.path === '/hooks/Announce');
    expect(announce?.query.build).toBe('b-17');
    expect(announce?.body).toBe('{"build": "b-17", "passed": true, "count": 412, "note": "{{secrets.api_token}}"}');
    expect(JSON.parse(run.outputs.outputs ?? '')).toEqual({ staging: { 'Run-Tests': outputs } });
    const steps = reportOf(run).targets[0]?.steps ?? [];
    expect(steps.find((s) => s.name === 'Run-Tests')?.outputs).toEqual(outputs);
    expect(steps.find((s) => s.name === 'Announce')).not.toHaveProperty('outputs');
    expect(secretFree(run)).toBe(true);
    expect(announce?.body).not.toContain(SECRET);
  });

  it('fail the later step, never calling it, when the decision lacks a key it uses', async () => {
    const ws = await h.workspace(TESTS_THEN_ANNOUNCE.replace('decision=none', 'decision=none&run=2'));
    const action = await ws.start();
    await action.waitForOutput(/Waiting for the callback of Run-Tests/);
    const uri = callbackUriOf(h.external, '/hooks/Run-Tests');
    expect((await postCallback(uri, { success: true, outputs: { build: 'b-18', passed: true, url: 'https://ci.example/18' } })).status).toBe(200);
    const run = await action.done;

    expect(run.exitCode).toBe(1);
    const announce = reportOf(run).targets[0]?.steps.find((s) => s.name === 'Announce');
    expect(announce).toMatchObject({
      state: 'failed',
      message: "{{outputs.Run-Tests.count}}: the decision of Run-Tests carried no output 'count' (it carried: build, passed, url)",
    });
    expect(h.external.webhooks.filter((w) => w.path === '/hooks/Announce' && w.query.build === 'b-18')).toEqual([]);
    expect(JSON.parse(run.outputs.outputs ?? '')).toEqual({ staging: { 'Run-Tests': { build: 'b-18', passed: true, url: 'https://ci.example/18' } } });
  });

  it('are refused by the relay past their limits, naming the key, and the gate still takes a good decision', async () => {
    const ws = await h.workspace(TESTS_THEN_ANNOUNCE.replace('decision=none', 'decision=none&run=3'));
    const action = await ws.start();
    await action.waitForOutput(/Waiting for the callback of Run-Tests/);
    const uri = callbackUriOf(h.external, '/hooks/Run-Tests');
    const nested = await postCallback(uri, { success: true, outputs: { build: { id: 1 } } });
    expect(nested.status).toBe(400);
    expect(JSON.stringify(nested.answer)).toContain('build');
    const good = { build: 'b-19', passed: false, count: 0, note: '' };
    expect((await postCallback(uri, { success: true, outputs: good })).status).toBe(200);
    const run = await action.done;
    expect(run.exitCode, run.stdout).toBe(0);
    expect(h.external.webhooks.find((w) => w.path === '/hooks/Announce' && w.query.build === 'b-19')?.body).toBe(
      '{"build": "b-19", "passed": false, "count": 0, "note": ""}',
    );
  });

  it('are data where they land: a quote adds no JSON field, an & no query parameter', async () => {
    const ws = await h.workspace(TESTS_THEN_ANNOUNCE.replace('decision=none', 'decision=none&run=4'));
    const action = await ws.start();
    await action.waitForOutput(/Waiting for the callback of Run-Tests/);
    const sneaky = { build: 'b-20&channel=%23general', passed: true, count: 1, note: 'ok", "passed": false, "x": "' };
    expect((await postCallback(callbackUriOf(h.external, '/hooks/Run-Tests'), { success: true, outputs: sneaky })).status).toBe(200);
    const run = await action.done;

    expect(run.exitCode, run.stdout).toBe(0);
    const announce = h.external.webhooks.find((w) => w.path === '/hooks/Announce' && w.query.build === sneaky.build);
    expect(announce?.query).toEqual({ build: sneaky.build });
    expect(JSON.parse(announce?.body ?? '')).toEqual({ build: sneaky.build, passed: true, count: 1, note: sneaky.note });
  });
});

describe('an approval’s outputs', () => {
  it('give later steps the decision, who approved and the comment as {{outputs.approval.*}}', async () => {
    const ws = await h.workspace(`
targets:
  prod:
    constraints:
      beforeDeployment:
        - pause: { untilApproved: true }
      afterDeployment:
        - runWebhook: { name: Record-Change }
webhooks:
  - name: Record-Change
    uriTemplate: "EXTERNAL/hooks/Record-Change"
    bodyTemplate:
      inline: '{"decision": "{{outputs.approval.decision}}", "by": "{{outputs.approval.approvedBy}}", "comment": "{{outputs.approval.comment}}"}'
    disableCallback: true
`);
    const action = await ws.start();
    const url = APPROVAL_LINE.exec(await action.waitForOutput(APPROVAL_LINE))?.[1] ?? '';
    expect(await decideByForm(url, { decision: 'approve', approver: 'release-manager', comment: 'CAB approved' })).toBe(303);
    const run = await action.done;

    expect(run.exitCode, run.stdout).toBe(0);
    expect(h.external.webhooks.find((w) => w.path === '/hooks/Record-Change')?.body).toBe('{"decision": "approved", "by": "release-manager", "comment": "CAB approved"}');
    expect(JSON.parse(run.outputs.outputs ?? '')).toEqual({ prod: { approval: { decision: 'approved', approvedBy: 'release-manager', comment: 'CAB approved' } } });
  });

  it('send a comment with quotes inside its JSON string, never as fields of its own', async () => {
    const ws = await h.workspace(`
targets:
  prod:
    constraints:
      beforeDeployment:
        - pause: { untilApproved: true }
      afterDeployment:
        - runWebhook: { name: Record-Change }
webhooks:
  - name: Record-Change
    uriTemplate: "EXTERNAL/hooks/Record-Change?by={{outputs.approval.approvedBy}}"
    bodyTemplate:
      inline: '{"rollback": false, "comment": "{{outputs.approval.comment}}"}'
    disableCallback: true
`);
    const action = await ws.start();
    const url = APPROVAL_LINE.exec(await action.waitForOutput(APPROVAL_LINE))?.[1] ?? '';
    const comment = 'ok", "rollback": true, "x": "';
    expect(await decideByForm(url, { decision: 'approve', approver: 'release&manager', comment })).toBe(303);
    const run = await action.done;

    expect(run.exitCode, run.stdout).toBe(0);
    // One query parameter, `by`: the & in the typed name is part of its value.
    const sent = h.external.webhooks.find((w) => w.path === '/hooks/Record-Change' && w.query.by !== undefined);
    expect(sent?.query).toEqual({ by: 'release&manager' });
    expect(JSON.parse(sent?.body ?? '')).toEqual({ rollback: false, comment });
  });
});
