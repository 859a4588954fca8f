/**
 * An approval gate's policy as the relay enforces it with GitHub sign-in (SPEC §10): the pause's
 * approvers with the repository owner's teams filled in, and the words the log uses for it.
 */
import type { ApprovalPolicy } from '../../shared/protocol.ts';
import { truncateCodePoints } from '../../shared/text.ts';
import type { ApprovalRules } from '../plan/plan.ts';
import { withoutRepeats } from '../plan/roles.ts';

/** The relay's limit on `initiator`. */
const MAX_INITIATOR_CHARS = 100;

/** The registration's `approval`: a role `roles:` lacks becomes `@<repository owner>/<role>`. */
export function approvalPolicy(rules: ApprovalRules, repository: string, initiator: string): ApprovalPolicy {
  const owner = repository.split('/')[0] ?? '';
  return {
    approvers: withoutRepeats([...rules.approvers, ...rules.ownerTeams.map((role) => `@${owner}/${role}`)]),
    minimumApprovals: rules.minimumApprovals,
    preventSelfReview: rules.preventSelfReview,
    initiator: truncateCodePoints(initiator, MAX_INITIATOR_CHARS),
  };
}

/** Who may decide, for the log: `may be decided by @acme/release-team or @mona; 2 approvals needed`. */
export function whoMayDecide(policy: ApprovalPolicy, repository: string): string {
  const who =
    policy.approvers.length === 0
      ? `anyone with write access to ${repository}`
      : policy.approvers.map((name) => (name.startsWith('@') ? name : `@${name}`)).join(' or ');
  const parts = [`may be decided by ${who}`];
  if (policy.minimumApprovals > 1) parts.push(`${policy.minimumApprovals} approvals needed`);
  if (policy.preventSelfReview) parts.push(`not by ${policy.initiator === '' ? 'the person' : `@${policy.initiator}, the person`} who started the run`);
  return parts.join('; ');
}
