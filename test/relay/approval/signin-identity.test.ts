/**
 * A signed-in person is known by GitHub user id, never by login (relay/approval/viewer.ts,
 * relay/approval/routes.ts): a login can be renamed, and then taken by someone else.
 */
import { describe, expect, it } from 'vitest';
import { getGate, registerApproval, RUN_INFO } from '../helpers.ts';
import { newLogin, newRepository, openAs, postAs, scriptPeople, signIn } from '../auth/signin.ts';

/** A GitHub user id no other test uses (the fake numbers its own from 50,000). */
function newUserId(): number {
  return 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
}

describe('a recorded vote', () => {
  it('stays with its person through a rename, and does not pass to whoever takes their login', async () => {
    const [login, renamed] = [newLogin('mona'), newLogin('mona-old')];
    const [first, second] = [newUserId(), newUserId()];
    const gate = await registerApproval({ run: { ...RUN_INFO, repository: newRepository() }, approval: { approvers: [login], minimumApprovals: 2 } });
    const { approvalUrl: url, gateId } = gate;
    const runId = gate.request.runId;

    await scriptPeople({ users: { [login]: first } });
    expect((await postAs(url, await signIn(login), { decision: 'approve', comment: 'one' })).status).toBe(303);
    expect(await getGate(runId, gateId)).toMatchObject({ state: 'pending' });

    // The voter renamed: still their vote (no form, a second decision is a duplicate, not a 403).
    await scriptPeople({ users: { [renamed]: first } });
    const renamedSession = await signIn(renamed);
    const theirs = await openAs(url, renamedSession);
    expect(theirs.html).toContain('You approved this approval; it waits for others.');
    expect(theirs.csrf).toBeNull();
    expect((await postAs(url, renamedSession, { decision: 'reject' }, theirs)).status).toBe(409);

    // Someone else took the login: not the voter; as a listed approver they may decide themselves.
    await scriptPeople({ users: { [login]: second } });
    const newcomer = await signIn(login);
    const page = await openAs(url, newcomer);
    expect(page.html).not.toContain('You approved this approval');
    expect(page.csrf).not.toBeNull();
    expect((await postAs(url, newcomer, { decision: 'approve', comment: 'two' }, page)).status).toBe(303);
    expect(await getGate(runId, gateId)).toMatchObject({ state: 'succeeded', decidedBy: `@${login}, @${login}` });
  });
});
