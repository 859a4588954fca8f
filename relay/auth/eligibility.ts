/**
 * Who may decide an approval gate (issue 12, SPEC §10), asked at decision time and to choose
 * whether the page shows the form: with approvers listed, a listed login (any case) or an active
 * member of a listed `@org/team`; with none, anyone with write access to the run's repository;
 * never the run's initiator when the policy prevents self-review. GitHub's answers are kept
 * 5 minutes per (repository, login, approvers) in this isolate's memory, no longer.
 */
import type { ApprovalPolicy } from '../../shared/protocol.ts';
import { GitHubUnavailable, isTeamMember, repoPermission } from '../github/people.ts';
import type { SignIn } from './setup.ts';

/** Whether the person may decide, and why (shown on the page); `unavailable`: GitHub could not be asked. */
export type Eligibility = { eligible: boolean; why: string; unavailable?: boolean };

const CACHE_MS = 5 * 60 * 1000;
/** Most answers kept: past this the oldest go first. */
const MAX_CACHED = 1000;
const cache = new Map<string, { answer: Eligibility; until: number }>();

/** The policy a gate registered without one has: anyone with write access, one approval. */
export const DEFAULT_POLICY: ApprovalPolicy = { approvers: [], minimumApprovals: 1, preventSelfReview: false, initiator: '' };

const WRITE_PERMISSIONS = ['admin', 'write'];
const WRITE_ROLES = ['admin', 'maintain', 'write'];

/** Whether `login` may decide a gate of `policy` in a run of `repository` (null: the run named none). */
export async function eligibility(signIn: SignIn, policy: ApprovalPolicy, repository: string | null, login: string, now = Date.now()): Promise<Eligibility> {
  if (policy.preventSelfReview && policy.initiator !== '' && policy.initiator.toLowerCase() === login.toLowerCase()) {
    return { eligible: false, why: 'you started this run, and this approval prevents self-review' };
  }
  const key = JSON.stringify([(repository ?? '').toLowerCase(), login.toLowerCase(), policy.approvers.map((a) => a.toLowerCase()).sort()]);
  const cached = cache.get(key);
  if (cached && cached.until > now) return cached.answer;
  let answer: Eligibility;
  try {
    answer = await ask(signIn, policy.approvers, repository, login);
  } catch (error) {
    if (!(error instanceof GitHubUnavailable)) throw error;
    return { eligible: false, unavailable: true, why: `GitHub could not tell whether you may decide (${error.message}); try again` };
  }
  cache.delete(key);
  cache.set(key, { answer, until: now + CACHE_MS });
  if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value ?? key);
  return answer;
}

async function ask(signIn: SignIn, approvers: string[], repository: string | null, login: string): Promise<Eligibility> {
  const lower = login.toLowerCase();
  if (approvers.some((approver) => approver.toLowerCase() === lower)) return { eligible: true, why: 'you are listed as an approver' };
  const teams = approvers.filter((approver) => approver.startsWith('@'));
  if (approvers.length > 0 && repository === null) return { eligible: false, why: 'the run names no repository, so team membership cannot be checked' };
  for (const team of teams) {
    const [org = '', slug = ''] = team.slice(1).split('/');
    if (await isTeamMember(signIn.app, repository ?? '', org, slug, login)) return { eligible: true, why: `you are a member of ${team}` };
  }
  if (approvers.length > 0) return { eligible: false, why: `you are not one of the approvers (${approvers.join(', ')})` };
  if (repository === null) return { eligible: false, why: 'the run names no repository, so write access cannot be checked' };
  const { permission, roleName } = await repoPermission(signIn.app, repository, login);
  if (WRITE_PERMISSIONS.includes(permission) || WRITE_ROLES.includes(roleName)) {
    return { eligible: true, why: `you have write access to ${repository}` };
  }
  return { eligible: false, why: `you do not have write access to ${repository} (your permission: ${permission})` };
}

/** Who may decide, in words: the approvers, or anyone with write access to the repository. */
export function whoMayDecide(policy: ApprovalPolicy, repository: string | null): string {
  const who = policy.approvers.length > 0 ? policy.approvers.join(', ') : `anyone with write access to ${repository ?? 'the repository'}`;
  return policy.preventSelfReview && policy.initiator !== '' ? `${who}, except ${policy.initiator}, who started this run` : who;
}
