/**
 * GitHub's custom deployment protection rule inside the run object: a `requested` delivery is
 * stored once (a redelivery, or a second request while one is open for the same environment
 * and workflow run, is not stored again), and once the target's beforeDeployment gates of its
 * latest attempt are all final its answer is stored as due, in the same synchronous stretch
 * as the change that made it so; the alarm sends it (relay/run/protection-sender.ts), retrying,
 * even after a restart. Exactly one answer per request. The parked `<target>#beforeDeployment`
 * job of such a target is resumed by the rule, not by a dispatch (relay/run/parking.ts).
 */
import type { RunEnv } from './env.ts';
import { protectionAnswer } from './protection-comment.ts';
import { sendDueAnswers } from './protection-sender.ts';
import type { ProtectionRow, ProtectionState } from './protection-store.ts';
import { ProtectionStore } from './protection-store.ts';

/** Most protection requests one run keeps (a run has a request per environment per attempt). */
export const MAX_PROTECTION_REQUESTS = 100;

/** The job key of the gate-mode job that waits for a target's beforeDeployment gates (shared/park.ts JobKey). */
const RULED_SUFFIX = '#beforeDeployment';

/** A `deployment_protection_rule` delivery, verified and checked at the edge (relay/worker/github-webhook.ts). */
export type ProtectionRequest = { delivery: string; environment: string; repository: string; callbackUrl: string };

/** How the run took it: stored (or found stored) in `state`, with the answer once known; or refused past the limit. */
export type ProtectionResult =
  | { ok: true; stored: boolean; state: ProtectionState; answer: 'approved' | 'rejected' | null }
  | { ok: false; reason: 'too-many-requests'; count: number };

/** What the run object does when the rule answers for a target (relay/run/rule-answered.ts). */
export type RuleAnswered = (target: string, answer: 'approved' | 'rejected', now: number) => void;

export class Protection {
  private readonly store: ProtectionStore;
  private readonly env: RunEnv;
  private readonly answered: RuleAnswered;

  constructor(sql: SqlStorage, env: RunEnv, answered: RuleAnswered) {
    this.store = new ProtectionStore(sql);
    this.env = env;
    this.answered = answered;
  }

  /** Stores a request unless it is a duplicate; answered at once when its gates are final already (or there are none). */
  request(request: ProtectionRequest, now: number): ProtectionResult {
    const existing = this.store.duplicate(request.delivery, request.environment, request.callbackUrl);
    if (existing) return { ok: true, stored: false, state: existing.state, answer: existing.answer };
    const count = this.store.count();
    if (count >= MAX_PROTECTION_REQUESTS) return { ok: false, reason: 'too-many-requests', count };
    const row = this.store.insert({
      delivery: request.delivery,
      environment: request.environment,
      repository: request.repository,
      callback_url: request.callbackUrl,
      state: 'waiting',
      answer: null,
      comment: null,
      tries: 0,
      error: null,
      next_at: null,
      first_try_at: null,
      created_at: now,
      updated_at: now,
    });
    const answer = this.check(row, now);
    return { ok: true, stored: true, state: answer === null ? 'waiting' : 'due', answer };
  }

  /** Stores the answer of every waiting request whose target's gates are all final now (the run object calls it with every change). */
  checkDue(now: number): void {
    for (const row of this.store.waiting()) this.check(row, now);
  }

  /** The answer stored for `row` if its gates are final; null while one is pending. */
  private check(row: ProtectionRow, now: number): 'approved' | 'rejected' | null {
    const target = this.store.targetFor(row.environment);
    if (target !== null && this.store.pendingGates(target) > 0) return null;
    const answer = protectionAnswer(row.environment, target, target === null ? [] : this.store.latestGates(target));
    this.store.setDue(row.id, answer.state, answer.comment, now);
    if (target !== null) this.answered(target, answer.state, now);
    return answer.state;
  }

  /** Whether a parked job is the rule's to resume: `<target>#beforeDeployment` of a target GitHub asked about. */
  resumesJob(job: string): boolean {
    return job.endsWith(RULED_SUFFIX) && this.store.hasRequestFor(job.slice(0, -RULED_SUFFIX.length));
  }

  /** The alarm's part: sends every answer due by now. */
  sendDue(): Promise<void> {
    return sendDueAnswers(this.store, this.env);
  }

  /** When the alarm must send the next due answer; null for none. */
  nextSend(): number | null {
    return this.store.nextSendAt();
  }

  /** True while a request waits or its answer is due: the run must not be deleted. */
  holdsRun(): boolean {
    return this.store.open();
  }

  lastActivity(): number | null {
    return this.store.lastActivity();
  }

  /** Every request as stored, for tests and an operator's look. */
  requests(): ProtectionRow[] {
    return this.store.all();
  }
}
