/**
 * The approval page's deciding section with and without sign-in (relay/approval/decision-section.ts):
 * the plain notice without sign-in, the misconfigured relay that decides nothing, escaping, and
 * no secret (client secret, user or installation token) in any page.
 */
import { describe, expect, it } from 'vitest';
import { getGate, openApproval, registerApproval, RUN_INFO, submitPage } from '../helpers.ts';
import { newLogin, newRepository, openAs, postAs, scriptPeople, SIGNIN_ENV, signIn } from '../auth/signin.ts';

describe('the approval page and sign-in', () => {
  it('without sign-in says the link is the only credential, and that the first decision decides', async () => {
    const gate = await registerApproval({ approval: { approvers: ['mona'], minimumApprovals: 2 } });
    const page = await openApproval(gate.approvalUrl);
    expect(page.html).toContain('Sign-in is not configured on this relay: this link is the only credential; requiresRoles, minimumApprovals and preventSelfReview are not enforced.');
    expect(page.html).toContain('This approval asks for 2 approvals; without sign-in the first decision decides.');
    expect(page.html).toContain('name="approver"');
    expect((await submitPage(gate.approvalUrl, page, { decision: 'approve', approver: 'Ada', comment: '' })).status).toBe(303);
    expect(await getGate(gate.request.runId, gate.gateId)).toMatchObject({ state: 'succeeded', decidedBy: 'Ada' });
  });

  it('with sign-in misconfigured shows no form and answers a POST 503 naming what is missing, deciding nothing', async () => {
    const broken = { ...SIGNIN_ENV, GITHUB_APP_CLIENT_SECRET: '' };
    const gate = await registerApproval();
    const page = await openAs(gate.approvalUrl, null, broken);
    expect(page.html).toContain('Sign-in on this relay is misconfigured (GITHUB_APP_CLIENT_ID is set but GITHUB_APP_CLIENT_SECRET is not');
    expect(page.csrf).toBeNull();
    const res = await postAs(gate.approvalUrl, await signIn(newLogin()), { decision: 'approve', approver: 'x' }, page, broken);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('GITHUB_APP_CLIENT_SECRET');
    expect(await getGate(gate.request.runId, gate.gateId)).toMatchObject({ state: 'pending' });
  });

  it('escapes what it shows of the run, and shows no secret or token in any page', async () => {
    const login = newLogin('w');
    const repository = newRepository();
    await scriptPeople({ permissions: { [repository]: { [login]: 'write' } } });
    const gate = await registerApproval({
      run: { ...RUN_INFO, repository, application: '<script>alert(1)</script>' },
      approval: { approvers: [], preventSelfReview: true, initiator: 'x<b>y' },
    });
    const session = await signIn(login);
    const page = await openAs(gate.approvalUrl, session);
    expect(page.html).not.toContain('<script>alert(1)</script>');
    expect(page.html).toContain('except x&lt;b&gt;y, who started this run');
    const decided = await postAs(gate.approvalUrl, session, { decision: 'approve', comment: '<img src=x onerror=alert(1)>' }, page);
    expect(decided.status).toBe(303);
    const after = await openAs(gate.approvalUrl, session);
    for (const html of [page.html, after.html]) {
      expect(html).not.toContain(SIGNIN_ENV.GITHUB_APP_CLIENT_SECRET ?? 'x');
      expect(html).not.toMatch(/gho_|ghs_/);
      expect(html).not.toContain('<img src=x');
      expect(html).not.toContain(session.split('=')[1] ?? 'x');
    }
    expect(after.html).toContain(`by <strong>@${login}</strong>`);
  });
});
