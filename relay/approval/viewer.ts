/**
 * Who looks at an approval page, as far as deciding goes (issue 12): sign-in off (the link is
 * the only credential), misconfigured (no one decides), or on, with the signed-in person if any,
 * whether they may decide (relay/auth/eligibility.ts) and their recorded decision.
 */
import { eligibility, DEFAULT_POLICY } from '../auth/eligibility.ts';
import type { Eligibility } from '../auth/eligibility.ts';
import { readSession } from '../auth/session.ts';
import { signInSetup } from '../auth/setup.ts';
import type { ApprovalPage, ApprovalVote, Person } from '../run/results.ts';
import type { Env } from '../worker/env.ts';

export type Viewer =
  | { signIn: 'off' }
  | { signIn: 'misconfigured'; message: string }
  | { signIn: 'on'; returnPath: string; person: null }
  | { signIn: 'on'; returnPath: string; person: Person; eligibility: Eligibility; vote: ApprovalVote | null };

/** What the request needs to know who is looking. */
export type ViewerRequest = { env: Env; secret: string; origin: string; cookie: string | undefined; returnPath: string };

/** The viewer of `data`'s page; eligibility is asked only of a signed-in person while the gate is pending. */
export async function viewerOf(request: ViewerRequest, data: ApprovalPage): Promise<Viewer> {
  const setup = signInSetup(request.env);
  if (setup.status === 'not configured') return { signIn: 'off' };
  if (!setup.signIn) return { signIn: 'misconfigured', message: setup.message };
  const person = await readSession(request.secret, request.origin, request.cookie);
  if (!person) return { signIn: 'on', returnPath: request.returnPath, person: null };
  // By GitHub user id, not login: a login can be renamed, and then taken by someone else.
  const vote = (data.votes ?? []).find((v) => v.user_id === person.id) ?? null;
  const answer: Eligibility =
    data.gate.state === 'pending' && vote === null
      ? await eligibility(setup.signIn, data.policy ?? DEFAULT_POLICY, data.run?.repository || null, person.login)
      : { eligible: false, why: '' };
  return { signIn: 'on', returnPath: request.returnPath, person, eligibility: answer, vote };
}
