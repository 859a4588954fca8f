/**
 * Deciding with sign-in configured (issue 12, SPEC §10): who may decide, minimumApprovals,
 * preventSelfReview, and that every refusal is a page that changes nothing.
 */
import { describe, expect, it } from 'vitest';
import type { RegisterGateRequest } from '../../../shared/protocol.ts';
import { getGate, registerApproval, RUN_INFO } from '../helpers.ts';
import { newLogin, newRepository, openAs, postAs, scriptPeople, signIn } from '../auth/signin.ts';

/** An approval gate of a run in a fresh repository, with `approval` as its policy. */
async function gateOf(approval: RegisterGateRequest['approval'], repository = newRepository()): Promise<{ url: string; runId: string; gateId: string; repository: string }> {
  const gate = await registerApproval({ run: { ...RUN_INFO, repository }, ...(approval ? { approval } : {}) });
  return { url: gate.approvalUrl, runId: gate.request.runId, gateId: gate.gateId, repository };
}

describe('deciding with sign-in', () => {
  it('refuses a POST without a session with a 401 page and records nothing', async () => {
    const gate = await gateOf({ approvers: ['mona'] });
    const page = await openAs(gate.url, null);
    expect(page.html).toContain('Sign in with GitHub');
    expect(page.html).toContain('/auth/github?return=%2Fapprove%2F');
    expect(page.csrf).toBeNull();
    const res = await postAs(gate.url, null, { decision: 'approve' }, page);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('sign in with GitHub to decide');
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'pending', decidedBy: null });
  });

  it('lets a listed login decide, any case, and records the verified login', async () => {
    const login = newLogin('Mona');
    const gate = await gateOf({ approvers: [login.toLowerCase()] });
    const session = await signIn(login);
    const page = await openAs(gate.url, session);
    expect(page.html).toContain(`Signed in as <strong>@${login}</strong>`);
    expect(page.html).toContain(`May decide: <strong>${login.toLowerCase()}</strong>`);
    expect(page.html).toContain('Approvals: 0 of 1.');
    expect(page.html).not.toContain('name="approver"');
    const res = await postAs(gate.url, session, { decision: 'approve', approver: 'someone else', comment: 'ship it' }, page);
    expect(res.status).toBe(303);
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'succeeded', decidedBy: `@${login}`, message: 'ship it' });
  });

  it('lets an active member of a listed team decide, and refuses others with a 403 page and no form', async () => {
    const member = newLogin('member');
    const outsider = newLogin('outsider');
    const team = `acme/team-${crypto.randomUUID().slice(0, 6)}`;
    await scriptPeople({ teams: { [team]: [member] } });
    const gate = await gateOf({ approvers: [`@${team}`, 'hubot'] });

    const outsiderSession = await signIn(outsider);
    const refusedPage = await openAs(gate.url, outsiderSession);
    expect(refusedPage.html).toContain(`You may not decide: you are not one of the approvers (@${team}, hubot).`);
    expect(refusedPage.csrf).toBeNull();
    const refused = await postAs(gate.url, outsiderSession, { decision: 'reject' }, refusedPage);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('Nothing was recorded');
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'pending' });

    const memberSession = await signIn(member);
    const res = await postAs(gate.url, memberSession, { decision: 'reject', comment: 'not today' });
    expect(res.status).toBe(303);
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'failed', decidedBy: `@${member}`, message: 'not today' });
  });

  it('lets anyone with write access decide when no approvers are named (maintain and admin too), not read', async () => {
    const [writer, maintainer, reader, stranger] = [newLogin('w'), newLogin('m'), newLogin('r'), newLogin('s')];
    const repository = newRepository();
    await scriptPeople({ permissions: { [repository]: { [writer]: 'write', [maintainer]: 'maintain', [reader]: 'read' } } });
    const gate = await gateOf(undefined, repository);
    const readerPage = await openAs(gate.url, await signIn(reader));
    expect(readerPage.html).toContain(`May decide: <strong>anyone with write access to ${repository}</strong>`);
    expect(readerPage.html).toContain(`you do not have write access to ${repository} (your permission: read)`);
    const strangerSession = await signIn(stranger);
    expect((await postAs(gate.url, strangerSession, { decision: 'approve' })).status).toBe(403);
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'pending' });
    const maintainerPage = await openAs(gate.url, await signIn(maintainer));
    expect(maintainerPage.csrf).not.toBeNull();
    expect((await postAs(gate.url, await signIn(writer), { decision: 'approve' })).status).toBe(303);
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'succeeded', decidedBy: `@${writer}` });
  });

  it('refuses the run’s initiator when the policy prevents self-review', async () => {
    const initiator = newLogin('init');
    const gate = await gateOf({ approvers: [initiator], preventSelfReview: true, initiator: initiator.toUpperCase() });
    const session = await signIn(initiator);
    const page = await openAs(gate.url, session);
    expect(page.html).toContain('you started this run, and this approval prevents self-review');
    expect(page.html).toContain(`except ${initiator.toUpperCase()}, who started this run`);
    expect((await postAs(gate.url, session, { decision: 'approve' }, page)).status).toBe(403);
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'pending' });
  });

  it('counts distinct eligible people up to minimumApprovals; a second decision of one person is 409', async () => {
    const [first, second] = [newLogin('a'), newLogin('b')];
    const gate = await gateOf({ approvers: [first, second], minimumApprovals: 2 });
    const firstSession = await signIn(first);
    expect((await postAs(gate.url, firstSession, { decision: 'approve', comment: 'one' })).status).toBe(303);
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'pending', decidedBy: null });
    const again = await openAs(gate.url, firstSession);
    expect(again.html).toContain(`Approvals: 1 of 2: @${first}.`);
    expect(again.html).toContain('You approved this approval; it waits for others.');
    expect(again.csrf).toBeNull();
    const duplicate = await postAs(gate.url, firstSession, { decision: 'reject' }, again);
    expect(duplicate.status).toBe(409);
    expect(await duplicate.text()).toContain('you already decided this approval');
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'pending' });
    // The same person signed in again (a new session) is still the same person.
    expect((await postAs(gate.url, await signIn(first), { decision: 'approve' })).status).toBe(409);

    expect((await postAs(gate.url, await signIn(second), { decision: 'approve', comment: 'two' })).status).toBe(303);
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({
      state: 'succeeded',
      decidedBy: `@${first}, @${second}`,
      message: `@${first}: one\n\n@${second}: two`,
    });
  });

  it('rejects at once on one eligible rejection, whatever the approvals so far', async () => {
    const [first, second] = [newLogin('a'), newLogin('b')];
    const gate = await gateOf({ approvers: [first, second], minimumApprovals: 2 });
    expect((await postAs(gate.url, await signIn(first), { decision: 'approve' })).status).toBe(303);
    expect((await postAs(gate.url, await signIn(second), { decision: 'reject' })).status).toBe(303);
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'failed', decidedBy: `@${second}` });
    const page = await openAs(gate.url, null);
    expect(page.html).toContain(`Approvals: 1 of 2: @${first}. Rejected by @${second}.`);
    expect(page.html).not.toContain('Sign in with GitHub');
  });

  it('answers 502 and records nothing when GitHub cannot tell (the App not installed on the repository)', async () => {
    const login = newLogin('w');
    const repository = newRepository();
    const res = await fetch('https://api.github.test/_control/script', { method: 'POST', body: JSON.stringify({ repository, installed: false }) });
    expect(res.status).toBe(200);
    const gate = await gateOf(undefined, repository);
    const session = await signIn(login);
    const page = await openAs(gate.url, session);
    expect(page.html).toContain('GitHub could not tell whether you may decide (GitHub answered 404)');
    expect((await postAs(gate.url, session, { decision: 'approve' }, page)).status).toBe(502);
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'pending' });
  });
});
