/**
 * Signed-in decisions on approval gates (issue 12, SPEC §10): one row per person per gate in
 * the run's `approvals` table. The edge has already checked that the person may decide
 * (relay/auth/eligibility.ts); here only counting happens: one rejection rejects, approvals of
 * distinct people count up to the policy's minimumApprovals. Synchronous, so a check and its
 * write see no other request in between.
 */
import { MAX_MESSAGE_CHARS } from '../../shared/protocol.ts';
import type { GateState } from '../../shared/protocol.ts';
import type { ApprovalDecision, ApprovalVote, Person } from './results.ts';
import type { GateRow } from './rows.ts';
import { approvalPolicy } from './rows.ts';

/** Most rows one gate takes (a gate ends at its first rejection or its 10th approval, so this is never reached by the rules). */
export const MAX_APPROVALS_PER_GATE = 50;

/** What the gate becomes: decided now, or still pending. */
export type Decided = { state: GateState; message: string | null; decidedBy: string } | null;

/** A decision's outcome: `decide` when it ends the gate; a refusal when it is not recorded. */
export type VoteOutcome =
  | { ok: true; decide: Decided }
  | { ok: false; reason: 'duplicate'; vote: ApprovalVote }
  | { ok: false; reason: 'too-many-approvals'; count: number };

type VoteRow = { user_id: string; login: string; approved: number; comment: string; at: number };

export class Approvals {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  /** The gate's signed-in decisions, oldest first. */
  votes(gateId: string): ApprovalVote[] {
    return this.rows(gateId).map((row) => ({ user_id: row.user_id, login: row.login, approved: row.approved === 1, at: row.at }));
  }

  /**
   * Records `decision` on the pending gate `row`. Without a person (sign-in not configured) the
   * first decision decides, by the name typed. With one: a second decision of the same person is
   * refused; a rejection rejects; approvals decide once minimumApprovals distinct people gave one.
   */
  record(row: GateRow, decision: ApprovalDecision, comment: string, now: number): VoteOutcome {
    const state: GateState = decision.approved ? 'succeeded' : 'failed';
    const message = comment === '' ? null : comment;
    const person = decision.person;
    if (!person) return { ok: true, decide: { state, message, decidedBy: decision.approver.trim() || 'anonymous' } };
    const rows = this.rows(row.id);
    const mine = rows.find((vote) => vote.user_id === person.id);
    if (mine) return { ok: false, reason: 'duplicate', vote: { user_id: mine.user_id, login: mine.login, approved: mine.approved === 1, at: mine.at } };
    if (rows.length >= MAX_APPROVALS_PER_GATE) return { ok: false, reason: 'too-many-approvals', count: rows.length };
    this.insert(row.id, person, decision.approved, comment, now);
    if (!decision.approved) return { ok: true, decide: { state, message, decidedBy: `@${person.login}` } };
    const approvals = [...rows, { user_id: person.id, login: person.login, approved: 1, comment, at: now }].filter(
      (vote) => vote.approved === 1,
    );
    const needed = approvalPolicy(row)?.minimumApprovals ?? 1;
    if (approvals.length < needed) return { ok: true, decide: null };
    return { ok: true, decide: { state, message: joinedComments(approvals), decidedBy: approvals.map((vote) => `@${vote.login}`).join(', ') } };
  }

  private rows(gateId: string): VoteRow[] {
    return this.sql
      .exec<VoteRow>('SELECT user_id, login, approved, comment, at FROM approvals WHERE gate_id = ? ORDER BY at, rowid LIMIT ?', gateId, MAX_APPROVALS_PER_GATE)
      .toArray();
  }

  private insert(gateId: string, person: Person, approved: boolean, comment: string, now: number): void {
    this.sql.exec(
      'INSERT INTO approvals (gate_id, user_id, login, approved, comment, at) VALUES (?, ?, ?, ?, ?, ?)',
      gateId,
      person.id,
      person.login,
      approved ? 1 : 0,
      comment,
      now,
    );
  }
}

/**
 * The gate's message once approved: the one comment as it is when one person commented, else each
 * comment after its author's `@login`, cut to the protocol's message limit; null when nobody commented.
 */
function joinedComments(approvals: VoteRow[]): string | null {
  const commented = approvals.filter((vote) => vote.comment !== '');
  if (commented.length === 0) return null;
  if (approvals.length === 1) return commented[0]?.comment ?? null;
  return commented.map((vote) => `@${vote.login}: ${vote.comment}`).join('\n\n').slice(0, MAX_MESSAGE_CHARS);
}
