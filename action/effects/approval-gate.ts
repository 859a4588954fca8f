/** Approval gates: a person decides on the relay's approval page, whose link the log shows. */
import { DEFAULT_GATE_TIMEOUT_SECONDS } from '../../shared/protocol.ts';
import type { GateView, Outputs, RegisterGateResponse } from '../../shared/protocol.ts';
import { RelayError } from '../clients/relay.ts';
import type { GateList, GatePhase } from '../engine/effects.ts';
import type { StepReport, StepState } from '../engine/report.ts';
import { errorMessage } from '../lib/errors.ts';
import { isParking } from '../engine/parking.ts';
import type { GateItem, TargetPlan } from '../plan/plan.ts';
import { approvalPolicy, whoMayDecide } from './approval-policy.ts';
import type { EffectsContext } from './context.ts';
import { registerGate, waitFor, withdraw } from './relay-gate.ts';

type Approval = Extract<GateItem, { kind: 'approval' }>;

/** The name of every approval gate, in the log, the report and on the approval page. */
const APPROVAL_NAME = 'manual approval';

/** Registers the approval gate once per target and key; logs its link the moment it exists (SPEC §4). */
function approvalGate(
  ctx: EffectsContext,
  target: TargetPlan,
  phase: GatePhase,
  item: Approval,
  key: string,
  signal: AbortSignal,
): Promise<RegisterGateResponse> {
  const id = `${target.name}/${key}`;
  const known = ctx.approvals.get(id);
  if (known) return known;
  const timeoutSeconds = Math.max(1, Math.ceil(item.expirationSeconds ?? DEFAULT_GATE_TIMEOUT_SECONDS));
  const { repository, initiator } = ctx.settings.github;
  const approval = approvalPolicy(item, repository, initiator);
  const pending = registerGate(ctx, target, phase, { kind: 'approval', name: APPROVAL_NAME, key, timeoutSeconds, roles: item.roles, approval }, signal);
  ctx.approvals.set(id, pending);
  pending.then(
    (gate) => {
      if (gate.state !== 'pending') return;
      ctx.say(
        target,
        `Approval needed (${phase}; ${whoMayDecide(approval, repository)}): open ${gate.approvalUrl ?? '(no link)'} to approve or reject; it expires at ${new Date(gate.deadline).toISOString()}`,
      );
    },
    // A failed registration is the approval step's to report; the next try registers afresh.
    () => ctx.approvals.delete(id),
  );
  return pending;
}

/** `{{hookgate.approvalUrl}}` for a webhook: the link of the first approval of its list, or ''. */
export async function approvalUrlOf(ctx: EffectsContext, target: TargetPlan, phase: GatePhase, list: GateList, signal: AbortSignal): Promise<string> {
  const index = list.items.findIndex((item) => item.kind === 'approval');
  const item = list.items[index];
  const key = list.keys[index];
  if (item?.kind !== 'approval' || key === undefined) return '';
  try {
    return (await approvalGate(ctx, target, phase, item, key, signal)).approvalUrl ?? '';
  } catch {
    // The approval step reports the failure to register; this webhook goes on without the link.
    return '';
  }
}

/** The approval step: waits for the decision on the page; resolves with its step, never rejects. */
export async function approvalStep(
  ctx: EffectsContext,
  target: TargetPlan,
  phase: GatePhase,
  item: Approval,
  key: string,
  signal: AbortSignal,
): Promise<StepReport> {
  const started = ctx.clock.now();
  const done = (state: StepState, message: string | null, outputs: Outputs | null = null): StepReport =>
    ctx.step('approval', APPROVAL_NAME, phase, started, state, message, [], outputs);
  let gate: GateView | null = null;
  try {
    gate = await approvalGate(ctx, target, phase, item, key, signal);
    const decided = await waitFor(ctx, target, phase, 'an approval', APPROVAL_NAME, gate, signal);
    const [state, message] = decision(decided);
    ctx.say(target, `Approval (${phase}): ${message}`);
    return done(state, message, approvalOutputs(decided));
  } catch (error) {
    // Parked: the gate stays pending at the relay, and a resumed run waits for it again.
    if (signal.aborted && isParking(signal.reason)) return done('parked', 'parked: the decision is awaited at the relay');
    if (signal.aborted) {
      if (gate) await withdraw(ctx, gate, `withdrawn: ${errorMessage(signal.reason)}`);
      return done('canceled', `withdrawn: ${errorMessage(signal.reason)}`);
    }
    return done('failed', error instanceof RelayError ? error.message : `unexpected error: ${errorMessage(error)}`);
  }
}

/** What a decided approval gate means for its step. */
function decision(decided: GateView): [StepState, string] {
  const who = decided.decidedBy ?? 'anonymous';
  const comment = decided.message ? `: ${decided.message}` : '';
  const result: Record<GateView['state'], [StepState, string]> = {
    succeeded: ['succeeded', `approved by ${who}${comment}`],
    failed: ['failed', `rejected by ${who}${comment}`],
    'timed-out': ['timed-out', `the approval expired at ${new Date(decided.deadline).toISOString()} without a decision`],
    canceled: ['canceled', decided.message ?? 'the approval was withdrawn'],
    superseded: ['canceled', decided.message ?? 'superseded by a re-run'],
    pending: ['failed', 'the relay answered an undecided approval'],
  };
  return result[decided.state];
}

/**
 * What a decided approval hands to later steps as `{{outputs.approval.*}}`: `decision` (`approved` or
 * `rejected`), the approvers' `comment` ('' without one) and `approvedBy` (the GitHub logins without
 * `@`, comma-separated, with sign-in; else the name typed on the page; '' for a rejection). None when
 * nobody decided (expired, withdrawn).
 */
export function approvalOutputs(decided: GateView): Outputs | null {
  if (decided.state !== 'succeeded' && decided.state !== 'failed') return null;
  const approved = decided.state === 'succeeded';
  return { decision: approved ? 'approved' : 'rejected', comment: decided.message ?? '', approvedBy: approved ? approvers(decided.decidedBy ?? '') : '' };
}

/** `@mona, @hubot` (signed-in approvals, as the relay records them) → `mona,hubot`; a typed name stays as it is. */
function approvers(decidedBy: string): string {
  return /^@[A-Za-z0-9-]+(?:, @[A-Za-z0-9-]+)*$/.test(decidedBy) ? decidedBy.split(', ').map((login) => login.slice(1)).join(',') : decidedBy;
}
