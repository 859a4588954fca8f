/**
 * Who may decide (relay/auth/eligibility.ts) asked of the fake GitHub: listed logins need no
 * question, GitHub's answers are kept 5 minutes per (repository, login, approvers), errors are
 * never kept, and self-review is refused before GitHub is asked.
 */
import { describe, expect, it } from 'vitest';
import { eligibility, whoMayDecide } from '../../../relay/auth/eligibility.ts';
import { signInSetup } from '../../../relay/auth/setup.ts';
import type { SignIn } from '../../../relay/auth/setup.ts';
import type { ApprovalPolicy } from '../../../shared/protocol.ts';
import { newLogin, newRepository, questionsAbout, scriptPeople, SIGNIN_ENV } from './signin.ts';

function signIn(): SignIn {
  const setup = signInSetup(SIGNIN_ENV);
  if (!setup.signIn) throw new Error(setup.message);
  return setup.signIn;
}

function policy(overrides: Partial<ApprovalPolicy> = {}): ApprovalPolicy {
  return { approvers: [], minimumApprovals: 1, preventSelfReview: false, initiator: '', ...overrides };
}

describe('eligibility', () => {
  it('admits a listed login in any case without asking GitHub', async () => {
    const login = newLogin('Ada');
    expect(await eligibility(signIn(), policy({ approvers: [login.toUpperCase()] }), newRepository(), login)).toEqual({
      eligible: true,
      why: 'you are listed as an approver',
    });
    expect(await questionsAbout(login)).toBe(0);
  });

  it('keeps GitHub’s answer 5 minutes per repository, login and approvers', async () => {
    const login = newLogin('w');
    const repository = newRepository();
    await scriptPeople({ permissions: { [repository]: { [login]: 'admin' } } });
    const now = Date.now();
    expect((await eligibility(signIn(), policy(), repository, login, now)).eligible).toBe(true);
    expect((await eligibility(signIn(), policy(), repository, login.toUpperCase(), now + 60_000)).eligible).toBe(true);
    expect(await questionsAbout(login)).toBe(1);
    await scriptPeople({ permissions: { [repository]: { [login]: 'read' } } });
    expect((await eligibility(signIn(), policy(), repository, login, now + 5 * 60_000 + 1)).eligible).toBe(false);
    expect(await questionsAbout(login)).toBe(2);
    // Other approvers are another question.
    expect((await eligibility(signIn(), policy({ approvers: ['@acme/nobody'] }), repository, login, now)).eligible).toBe(false);
    expect(await questionsAbout(login)).toBe(3);
  });

  it('accepts the maintain role, refuses a non-collaborator, and refuses the initiator under preventSelfReview before asking', async () => {
    const [maintainer, stranger] = [newLogin('m'), newLogin('s')];
    const repository = newRepository();
    await scriptPeople({ permissions: { [repository]: { [maintainer]: 'maintain' } } });
    expect((await eligibility(signIn(), policy(), repository, maintainer)).eligible).toBe(true);
    expect(await eligibility(signIn(), policy(), repository, stranger)).toEqual({
      eligible: false,
      why: `you do not have write access to ${repository} (your permission: none)`,
    });
    const self = newLogin('self');
    const answer = await eligibility(signIn(), policy({ preventSelfReview: true, initiator: self }), repository, self);
    expect(answer).toEqual({ eligible: false, why: 'you started this run, and this approval prevents self-review' });
    expect(await questionsAbout(self)).toBe(0);
    // Without preventSelfReview the initiator is asked about like anyone.
    expect((await eligibility(signIn(), policy({ initiator: self }), repository, self)).eligible).toBe(false);
    expect(await questionsAbout(self)).toBe(1);
  });

  it('does not keep GitHub’s failures', async () => {
    const login = newLogin('w');
    const repository = newRepository();
    await fetch('https://api.github.test/_control/script', { method: 'POST', body: JSON.stringify({ repository, installed: false }) });
    const failed = await eligibility(signIn(), policy(), repository, login);
    expect(failed).toMatchObject({ eligible: false, unavailable: true });
    await fetch('https://api.github.test/_control/script', { method: 'POST', body: JSON.stringify({ repository, installed: true }) });
    await scriptPeople({ permissions: { [repository]: { [login]: 'write' } } });
    expect((await eligibility(signIn(), policy(), repository, login)).eligible).toBe(true);
  });

  it('says who may decide', () => {
    expect(whoMayDecide(policy({ approvers: ['mona', '@acme/release'] }), 'acme/app')).toBe('mona, @acme/release');
    expect(whoMayDecide(policy(), 'acme/app')).toBe('anyone with write access to acme/app');
    expect(whoMayDecide(policy({ preventSelfReview: true, initiator: 'hubot' }), null)).toBe(
      'anyone with write access to the repository, except hubot, who started this run',
    );
  });
});
