/**
 * Approvals in a real browser: headless Chromium (from npm) opens the approval
 * page the waiting action printed, a person approves or rejects, and the action
 * running dist/index.js against the real relay follows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { APPROVAL_LINE, decideByForm } from '../support/approval-form.ts';
import { launchBrowser } from '../support/browser.ts';
import { COMMANDS, reportOf, secretFree, startHarness, webhook } from './harness.ts';
import type { Harness } from './harness.ts';
import { Started } from './started.ts';

let h: Harness;
let browser: Browser;
// One after the other, each recorded as it starts: a browser that fails to start stops the relay.
const started = new Started();
beforeAll(async () => {
  h = await started.add(startHarness, (harness) => harness.close());
  browser = await started.add(launchBrowser, (chromium) => chromium.close());
});
afterAll(() => started.stopAll());

/** prod waits on an approval, a notification carrying its link, and a health check with hostile Markdown. */
const PROD_WITH_APPROVAL = `
application: potato-facts
${COMMANDS}
targets:
  prod:
    constraints:
      beforeDeployment:
        - pause: { untilApproved: true, approvalExpiration: { duration: 10, unit: minutes } }
        - runWebhook: { name: Notify }
        - runWebhook: { name: Health }
webhooks:
  - name: Notify
    uriTemplate: "EXTERNAL/hooks/notify"
    bodyTemplate: { inline: '{"text": "Approve {{armory.environmentName}}: {{hookgate.approvalUrl}}"}' }
    disableCallback: true
${webhook('Health', `message=${encodeURIComponent('**All green** <script>window.pwned = 1</script> [docs](javascript:window.pwned=2)')}`)}
`;

describe('the approval page in Chromium', () => {
  it('Approve: the page shows the run and its gates safely, and the waiting action proceeds with who approved', async () => {
    const ws = await h.workspace(PROD_WITH_APPROVAL);
    const action = await ws.start();
    const url = APPROVAL_LINE.exec(await action.waitForOutput(APPROVAL_LINE))?.[1] ?? '';
    expect(url).toMatch(new RegExp(`^${h.relay.url}/approve/`));
    // The notification webhook of the same list carried the same link.
    await expect.poll(() => h.external.webhooks.find((w) => w.path === '/hooks/notify')?.body).toContain(url);
    await action.waitForOutput(/Callback for Health: success/);

    const page = await browser.newPage();
    try {
      await page.goto(url);
      const text = await page.locator('body').innerText();
      for (const expected of ['potato-facts', 'prod', '0123456', 'octocat', 'Health']) expect(text).toContain(expected);
      const runId = /deployment acme\/potato-facts\/(\d+)/.exec(action.stdout())?.[1] ?? 'none';
      expect(await page.locator(`a[href="https://github.com/acme/potato-facts/actions/runs/${runId}"]`).count()).toBe(1);
      // The callback's Markdown is rendered, its HTML and javascript: link are not.
      expect(await page.locator('strong', { hasText: 'All green' }).count()).toBe(1);
      expect(await page.locator('script').count()).toBe(0);
      expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
      // Opening the page decided nothing: the action still waits.
      expect(action.stdout()).not.toMatch(/Approval \(beforeDeployment\):/);

      await page.fill('textarea[name="comment"]', 'ship it');
      await page.fill('input[name="approver"]', 'Mona');
      await page.click('button[value="approve"]');
      await page.waitForLoadState();
      expect(await page.locator('body').innerText()).toMatch(/approved/i);
    } finally {
      await page.close();
    }

    const run = await action.done;
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs.result).toBe('succeeded');
    expect(ws.has('deployed-prod')).toBe(true);
    expect(run.stdout).toContain('Approval (beforeDeployment): approved by Mona: ship it');
    const approval = reportOf(run).targets[0]?.steps.find((s) => s.kind === 'approval');
    expect(approval).toMatchObject({ state: 'succeeded', message: 'approved by Mona: ship it' });
    expect(run.summary).toContain('approved by Mona: ship it');
    expect(secretFree(run)).toBe(true);
  });

  it('Reject: the target is not deployed and the rejection and its reason are reported', async () => {
    const ws = await h.workspace(PROD_WITH_APPROVAL);
    const action = await ws.start();
    const url = APPROVAL_LINE.exec(await action.waitForOutput(APPROVAL_LINE))?.[1] ?? '';
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await page.fill('textarea[name="comment"]', 'not during the freeze');
      await page.fill('input[name="approver"]', 'Hubot');
      await page.click('button[value="reject"]');
      await page.waitForLoadState();
      expect(await page.locator('body').innerText()).toMatch(/rejected/i);
      // The decision is final: the page no longer offers the form.
      expect(await page.locator('button[value="approve"]').count()).toBe(0);
    } finally {
      await page.close();
    }

    const run = await action.done;
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe('failed');
    expect(ws.has('deployed-prod')).toBe(false);
    expect(reportOf(run).targets[0]?.message).toContain('prod not deployed: beforeDeployment approval manual approval failed: rejected by Hubot: not during the freeze');
    expect(run.summary).toContain('rejected by Hubot: not during the freeze');
  });
});

describe('approvals without a browser', () => {
  it('a failed webhook in the same list fails the target at once and withdraws the pending approval', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  prod:
    constraints:
      beforeDeployment:
        - pause: { untilApproved: true }
        - runWebhook: { name: Change-Ticket }
webhooks:
${webhook('Change-Ticket', 'decision=failure&message=Change+window+closed&delayMs=200')}
`);
    const action = await ws.start();
    const url = APPROVAL_LINE.exec(await action.waitForOutput(APPROVAL_LINE))?.[1] ?? '';
    const run = await action.done;
    expect(run.exitCode).toBe(1);
    expect(ws.has('deployed-prod')).toBe(false);
    const steps = reportOf(run).targets[0]?.steps ?? [];
    expect(steps.find((s) => s.kind === 'approval')?.state).toBe('canceled');
    expect(reportOf(run).targets[0]?.message).toContain('webhook Change-Ticket failed: Change window closed');
    // Withdrawn at the relay: the page shows it canceled and offers no form any more.
    const page = await (await fetch(url)).text();
    expect(page).toContain('canceled');
    await expect(decideByForm(url, { decision: 'approve', approver: 'late' })).rejects.toThrow(/no form/);
  });

  it('an approval that expires fails its gate', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  prod:
    constraints:
      beforeDeployment:
        - pause: { untilApproved: true, approvalExpiration: { duration: 2, unit: seconds } }
`);
    const run = await ws.run();
    expect(run.exitCode).toBe(1);
    expect(ws.has('deployed-prod')).toBe(false);
    const approval = reportOf(run).targets[0]?.steps[0];
    expect(approval?.state).toBe('timed-out');
    expect(approval?.message).toMatch(/^the approval expired at \d{4}-/);
  });

  it('the form decides without JavaScript, and a second decision is refused', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  staging:
    strategy: careful
strategies:
  careful:
    canary:
      steps:
        - setWeight: { weight: 50 }
        - pause: { untilApproved: true }
`);
    const action = await ws.start();
    const url = APPROVAL_LINE.exec(await action.waitForOutput(APPROVAL_LINE))?.[1] ?? '';
    expect(await decideByForm(url, { decision: 'approve' })).toBe(303);
    expect(await decideByForm(url, { decision: 'reject' }).catch((e: unknown) => String(e))).toMatch(/no form/);
    const run = await action.done;
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toContain('Approval (strategy): approved by anonymous');
    expect((await ws.read('weights-staging')).trim().split('\n')).toEqual(['50', '100']);
  });
});
