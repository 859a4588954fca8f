/**
 * The part of the approval page about deciding (issue 12): who may decide, the decisions so
 * far (`1 of 2: @mona`), who is signed in, and the form, or why there is none. Every value
 * from outside is escaped.
 */
import { MAX_APPROVER_CHARS, MAX_COMMENT_CHARS } from '../../shared/protocol.ts';
import { DEFAULT_POLICY, whoMayDecide } from '../auth/eligibility.ts';
import type { ApprovalPage } from '../run/results.ts';
import { escapeHtml } from './html.ts';
import type { Viewer } from './viewer.ts';

/** Said plainly on every page of a relay without sign-in. */
export const NOT_ENFORCED =
  'Sign-in is not configured on this relay: this link is the only credential; requiresRoles, minimumApprovals and preventSelfReview are not enforced.';

/** The deciding section of `page` for `viewer`; `csrf` is the form token (the form shows only while the gate is pending). */
export function decisionSection(page: ApprovalPage, viewer: Viewer, csrf: string): string {
  const pending = page.gate.state === 'pending';
  const roles =
    page.requiresRoles.length > 0
      ? `<p>Required roles: ${page.requiresRoles.map((role) => `<strong>${escapeHtml(role)}</strong>`).join(', ')}.</p>`
      : '';
  if (viewer.signIn === 'off') {
    const minimum = page.policy?.minimumApprovals ?? 1;
    const firstDecides = minimum > 1 ? ` This approval asks for ${minimum} approvals; without sign-in the first decision decides.` : '';
    return `${roles}<p class="note">${escapeHtml(NOT_ENFORCED + firstDecides)}</p>\n${pending ? form(csrf, true) : ''}`;
  }
  const policy = page.policy ?? DEFAULT_POLICY;
  const who = `<p>May decide: <strong>${escapeHtml(whoMayDecide(policy, page.run?.repository || null))}</strong>.</p>`;
  const summary = `${roles}${who}${votesLine(page)}`;
  if (viewer.signIn === 'misconfigured') {
    return `${summary}<p class="box">${escapeHtml(`Sign-in on this relay is misconfigured (${viewer.message}). Ask its operator to fix it.`)}</p>`;
  }
  if (viewer.person === null) {
    const href = `/auth/github?${new URLSearchParams({ return: viewer.returnPath })}`;
    const link = pending ? `<p><a class="button" href="${escapeHtml(href)}">Sign in with GitHub</a> to decide.</p>` : '';
    return `${summary}${link}`;
  }
  const signedIn = `<form method="post" action="/auth/logout" class="note">Signed in as <strong>@${escapeHtml(viewer.person.login)}</strong>
<input type="hidden" name="return" value="${escapeHtml(viewer.returnPath)}"> <button type="submit" class="link">Sign out</button></form>`;
  if (!pending) return `${summary}${signedIn}`;
  if (viewer.vote) {
    const verb = viewer.vote.approved ? 'approved' : 'rejected';
    return `${summary}${signedIn}<p class="box">You ${verb} this approval; it waits for others.</p>`;
  }
  if (!viewer.eligibility.eligible) {
    return `${summary}${signedIn}<p class="box">You may not decide: ${escapeHtml(viewer.eligibility.why)}.</p>`;
  }
  return `${summary}${signedIn}${form(csrf, false)}`;
}

/** The decisions so far: `Approvals: 1 of 2: @mona`, and any rejection. */
function votesLine(page: ApprovalPage): string {
  const votes = page.votes ?? [];
  const approvals = votes.filter((vote) => vote.approved).map((vote) => `@${vote.login}`);
  const rejections = votes.filter((vote) => !vote.approved).map((vote) => `@${vote.login}`);
  const needed = page.policy?.minimumApprovals ?? 1;
  const list = approvals.length > 0 ? `: ${approvals.join(', ')}` : '';
  const rejected = rejections.length > 0 ? ` Rejected by ${rejections.join(', ')}.` : '';
  return `<p>Approvals: ${approvals.length} of ${needed}${escapeHtml(list)}.${escapeHtml(rejected)}</p>`;
}

function form(csrf: string, named: boolean): string {
  // No action attribute: the form posts to this very URL (CSP form-action 'self').
  const name = named
    ? `<label for="approver">Your name</label>
<input type="text" id="approver" name="approver" maxlength="${MAX_APPROVER_CHARS}" autocomplete="name">\n`
    : '';
  return `<form method="post" class="box">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
${name}<label for="comment">Comment <span class="note">(optional, Markdown)</span></label>
<textarea id="comment" name="comment" rows="4" maxlength="${MAX_COMMENT_CHARS}"></textarea>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="reject">Reject</button>
</form>`;
}
