/**
 * Approvals that know who approves (issue 12), end to end: the action (dist/index.js) waits on
 * the real relay, people sign in with GitHub in Chromium (the fake GitHub's "Sign in as" page,
 * OAuth with PKCE), and the relay asks the fake who may decide with its App's installation
 * token. A refused person sees why and gets no form; a crafted POST decides nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { APPROVAL_LINE, decideByForm } from '../support/approval-form.ts';
import { craftedPost, cookieOf, csrfOf, startApproveWorld } from './approve-harness.ts';
import type { ApproveWorld } from './approve-harness.ts';
import { COMMANDS, reportOf, secretFree } from './harness.ts';
import type { ActionProcess } from '../../scripts/run-action.ts';
import { Started } from './started.ts';

const started = new Started();
let w: ApproveWorld;
beforeAll(async () => {
  w = await started.add(() => startApproveWorld(), (world) => world.close());
});
afterAll(() => started.stopAll());

/** prod waits on one approval with these `pause` fields; `roles:` maps release-managers to the team when they name it. */
function approvalFile(pause: string): string {
  const roles = pause.includes('release-managers') ? 'roles:\n  release-managers: ["@acme/release-team"]' : '';
  return `
application: potato-facts
${COMMANDS}
${roles}
targets:
  prod:
    constraints:
      beforeDeployment:
        - pause: { untilApproved: true, approvalExpiration: { duration: 10, unit: minutes }${pause} }
`;
}

const DECIDED = /Approval \(beforeDeployment\):/;
const textOf = (page: Page): Promise<string> => page.locator('body').innerText();

async function waitingAction(pause: string, env: Record<string, string> = {}): Promise<{ action: ActionProcess; url: string; has: (marker: string) => boolean }> {
  const ws = await w.h.workspace(approvalFile(pause));
  const action = await w.start(ws, {}, env);
  const url = APPROVAL_LINE.exec(await action.waitForOutput(APPROVAL_LINE))?.[1] ?? '';
  expect(url).toMatch(new RegExp(`^${w.h.relay.url}/approve/`));
  return { action, url, has: (marker) => ws.has(marker) };
}

/** Approves on an open page (the form's comment, then Approve) and waits for the page after the POST. */
async function approve(page: Page, comment = ''): Promise<void> {
  if (comment) await page.fill('textarea[name="comment"]', comment);
  await page.click('button[value="approve"]');
  await page.waitForLoadState();
}

/** The action must still be waiting: no decision in its log a moment later. */
async function stillWaiting(action: ActionProcess): Promise<void> {
  await new Promise((r) => setTimeout(r, 1500));
  expect(action.stdout()).not.toMatch(DECIDED);
}

describe('approvals with GitHub sign-in', () => {
  it('signs in with GitHub in Chromium and approves: the action’s log and report say approved by @mona', async () => {
    const { action, url, has } = await waitingAction('');
    // Without a session the page offers sign-in, not a form.
    const anonymous = await (await fetch(url)).text();
    expect(anonymous).toContain('Sign in with GitHub');
    await expect(decideByForm(url, { decision: 'approve', approver: 'mona' })).rejects.toThrow(/no form/);

    const mona = await w.person('mona');
    const page = await mona.open(url);
    const text = await textOf(page);
    expect(text).toContain('Signed in as @mona');
    expect(text).toMatch(/anyone with write access to acme\/potato-facts/);
    // The login is verified: nobody types a name.
    expect(await page.locator('input[name="approver"]').count()).toBe(0);
    const session = (await mona.context.cookies(w.h.relay.url)).find((c) => c.name === '__Host-hookgate-session');
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
    expect(action.stdout()).not.toMatch(DECIDED);

    await approve(page, 'ship it');
    expect(await textOf(page)).toMatch(/approved/i);
    await mona.context.close();

    const run = await action.done;
    expect(run.exitCode, run.stdout).toBe(0);
    expect(has('deployed-prod')).toBe(true);
    expect(run.stdout).toContain('Approval (beforeDeployment): approved by @mona: ship it');
    const step = reportOf(run).targets[0]?.steps.find((s) => s.kind === 'approval');
    expect(step).toMatchObject({ state: 'succeeded', message: 'approved by @mona: ship it' });
    expect(run.summary).toContain('approved by @mona');
    expect(secretFree(run)).toBe(true);
    // The relay asked GitHub who mona is and what she may do, and GitHub refused nothing it sent.
    expect(w.github.requests.some((r) => r.path === '/user' && r.status === 200)).toBe(true);
    expect(w.github.requests.some((r) => r.path === '/repos/acme/potato-facts/collaborators/mona/permission' && r.status === 200)).toBe(true);
    expect(w.github.refusals()).toEqual([]);
  });

  it('someone not in the role’s team sees why and no form; crafted POSTs get 401 and 403 and decide nothing', async () => {
    const { action, url } = await waitingAction(', requiresRoles: [release-managers]');
    const eve = await w.person('eve');
    const evePage = await eve.open(url);
    const text = await textOf(evePage);
    expect(text).toContain('Signed in as @eve');
    expect(text).toMatch(/You may not decide/);
    expect(text).toContain('@acme/release-team');
    expect(await csrfOf(evePage)).toBeNull();

    // A valid form token (mona's page, with her browser's anti-forgery cookie) and eve's session: refused for who she is.
    const mona = await w.person('mona');
    const monaPage = await mona.open(url);
    const csrf = (await csrfOf(monaPage)) ?? '';
    expect(csrf).not.toBe('');
    const nonce = cookieOf(await mona.cookieHeader(url), 'hookgate_csrf');
    const eveSession = cookieOf(await eve.cookieHeader(url), '__Host-hookgate-session');
    expect([nonce, eveSession]).not.toContain('');
    expect(await craftedPost(url, `${nonce}; ${eveSession}`, csrf)).toBe(403);
    expect(await craftedPost(url, `${nonce}; ${eveSession}`, csrf, 'reject')).toBe(403);
    // The same without any session: 401.
    expect(await craftedPost(url, nonce, csrf)).toBe(401);
    await stillWaiting(action);
    expect(await (await fetch(url)).text()).toMatch(/Approvals: 0 of 1/);

    await approve(monaPage);
    await Promise.all([eve.context.close(), mona.context.close()]);
    const run = await action.done;
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toContain('approved by @mona');
    expect(run.stdout).not.toContain('@eve');
  });

  it('minimumApprovals: 2 — one approval shows 1 of 2 and the gate waits; a second person decides it', async () => {
    const { action, url, has } = await waitingAction(', requiresRoles: [release-managers], minimumApprovals: 2');
    const mona = await w.person('mona');
    const monaPage = await mona.open(url);
    const csrf = (await csrfOf(monaPage)) ?? '';
    await approve(monaPage);
    const after = await textOf(monaPage);
    expect(after).toMatch(/Approvals: 1 of 2: @mona/);
    expect(after).toMatch(/waits for others/);
    await stillWaiting(action);
    expect(has('deployed-prod')).toBe(false);
    // The same person again does not count twice.
    expect(await craftedPost(url, await mona.cookieHeader(url), csrf)).toBe(409);

    const hubot = await w.person('hubot');
    const hubotPage = await hubot.open(url);
    expect(await textOf(hubotPage)).toMatch(/Approvals: 1 of 2: @mona/);
    await approve(hubotPage, 'second pair of eyes');
    await Promise.all([mona.context.close(), hubot.context.close()]);

    const run = await action.done;
    expect(run.exitCode, run.stdout).toBe(0);
    expect(has('deployed-prod')).toBe(true);
    expect(run.stdout).toMatch(/approved by @mona, @hubot/);
    expect(reportOf(run).targets[0]?.steps.find((s) => s.kind === 'approval')?.message).toMatch(/^approved by @mona, @hubot/);
  });

  it('preventSelfReview: the person who started the run (GITHUB_TRIGGERING_ACTOR) is refused; another approves', async () => {
    // GITHUB_ACTOR stays octocat: the re-run's triggering actor, mona, is the initiator.
    const { action, url } = await waitingAction(', preventSelfReview: true', { GITHUB_TRIGGERING_ACTOR: 'mona' });
    const mona = await w.person('mona');
    const monaPage = await mona.open(url);
    const text = await textOf(monaPage);
    expect(text).toContain('Signed in as @mona');
    expect(text).toMatch(/You may not decide: .*started this run/);
    expect(await csrfOf(monaPage)).toBeNull();

    const lisa = await w.person('lisa');
    const lisaPage = await lisa.open(url);
    const csrf = (await csrfOf(lisaPage)) ?? '';
    const crafted = `${cookieOf(await lisa.cookieHeader(url), 'hookgate_csrf')}; ${cookieOf(await mona.cookieHeader(url), '__Host-hookgate-session')}`;
    expect(await craftedPost(url, crafted, csrf)).toBe(403);
    await stillWaiting(action);

    await approve(lisaPage);
    await Promise.all([mona.context.close(), lisa.context.close()]);
    const run = await action.done;
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toContain('approved by @lisa');
  });
});
