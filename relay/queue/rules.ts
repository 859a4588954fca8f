/**
 * The deploy queue's rules (Armory's `ifDeploymentInProgress`), as changes to the store made in
 * one synchronous stretch: no other request runs between reading the queue and writing it. Each
 * change answers where the caller stands and which queue gates to decide (relay/queue/wake.ts).
 */
import { MAX_TARGETS_PER_RUN } from '../../shared/protocol.ts';
import { LEASE_SECONDS } from '../../shared/queue.ts';
import type { EnterQueueRequest, LeaveQueueRequest, QueueView, RenewQueueRequest } from '../../shared/queue.ts';
import type { Member, QueueStore, Wake } from './store.ts';
import { KEEP_REPLACED_MS, MAX_WAKE_GATES, publicView } from './store.ts';

export type { Wake } from './store.ts';

/** Where the caller stands, and the gates the change decides. */
export type Change = { view: QueueView; wakes: Wake[] };

export const WENT_ON = 'the deployment in progress ended; this one goes on';

const LEASE_MS = LEASE_SECONDS * 1000;
/**
 * With one job per environment, how long a deployment keeps its place after one target's job left
 * while others have not: the next environment's job may start much later (reviewers, wait timers).
 */
export const BETWEEN_JOBS_MS = 60 * 60_000;
/** The hold of a job that deploys every target. */
const WHOLE = '';

/**
 * Enters the queue, or refreshes the place a deployment of the same run id has (a re-run, a resumed
 * run, another job of the run): a holder stays the holder, the waiting one keeps waiting.
 */
export function enter(store: QueueStore, request: EnterQueueRequest, now: number): Change {
  const wakes = expire(store, now);
  const holder = store.member('holder');
  const waiting = store.member('waiting');
  const gates = request.wakeGateId === undefined ? [] : [request.wakeGateId];
  const own = holder?.runId === request.runId ? holder : waiting?.runId === request.runId ? waiting : undefined;
  if (own) {
    const member = refreshed(own, request, now);
    if (member.role === 'holder') {
      // A gate registered after `waiting` was answered, while the holder left: it goes on at once.
      if (gates.length > 0) wakes.push({ runId: member.runId, gateIds: gates, success: true, mdMessage: WENT_ON });
      store.put(member);
      return { view: { position: 'holding', holder: null, replacedBy: null }, wakes };
    }
    const all = [...new Set([...member.wakeGates, ...gates])];
    // Past the limit the oldest gate is failed, not forgotten: its job would wait for nothing.
    const dropped = all.slice(0, Math.max(0, all.length - MAX_WAKE_GATES));
    if (dropped.length > 0) wakes.push({ runId: member.runId, gateIds: dropped, success: false, mdMessage: `more than ${MAX_WAKE_GATES} jobs of the deployment wait in the deploy queue; the oldest gave up its wait` });
    store.put({ ...member, wakeGates: all.slice(-MAX_WAKE_GATES) });
    return { view: waitingView(holder), wakes };
  }
  const replaced = store.replaced(request.runId);
  if (replaced && replaced.attempt >= request.attempt) {
    // Its job may have registered its gate just as a newer deployment took its place.
    if (gates.length > 0) wakes.push(replacedWake(request.runId, gates, replaced.by));
    return { view: { position: 'replaced', holder: holder ? publicView(holder) : null, replacedBy: replaced.by }, wakes };
  }
  if (replaced) store.forgetReplaced(request.runId);
  const member: Member = {
    runId: request.runId,
    role: holder ? 'waiting' : 'holder',
    attempt: request.attempt,
    runUrl: request.runUrl,
    since: now,
    leaseUntil: now + LEASE_MS,
    targets: [...new Set(request.targets)],
    left: [],
    wakeGates: gates,
    holds: [],
  };
  if (!holder) {
    store.put({ ...member, wakeGates: [] });
    if (gates.length > 0) wakes.push({ runId: member.runId, gateIds: gates, success: true, mdMessage: WENT_ON });
    return { view: { position: 'holding', holder: null, replacedBy: null }, wakes };
  }
  if (request.strategy === 'reject') return { view: { position: 'rejected', holder: publicView(holder), replacedBy: null }, wakes };
  if (waiting) {
    // enqueueOne keeps the newest, as GitHub's concurrency groups cancel the pending run.
    store.remove(waiting.runId);
    store.markReplaced(waiting, publicView(member), now);
    if (waiting.wakeGates.length > 0) wakes.push(replacedWake(waiting.runId, waiting.wakeGates, publicView(member)));
  }
  store.put(member);
  return { view: waitingView(holder), wakes };
}

/**
 * Keeps the caller's place: LEASE_SECONDS from now, and until `holdUntil` for a parked job (the
 * edge bounds it). Holds are kept per job (its target): a renewal replaces only its own job's hold,
 * so a sibling job's renewal never cuts a parked job's hold, while the job's resumed run ends it.
 */
export function renew(store: QueueStore, request: RenewQueueRequest, now: number): Change {
  const wakes = expire(store, now);
  const own = ownMember(store, request.runId);
  if (!own) return { view: absentView(store, request.runId), wakes };
  const job = request.target ?? WHOLE;
  const mine = request.holdUntil === undefined ? [] : [{ job, until: request.holdUntil }];
  const holds = [...holdsInForce(own, now).filter((hold) => hold.job !== job), ...mine].slice(-(MAX_TARGETS_PER_RUN + 1));
  store.put({ ...own, holds, leaseUntil: leaseWith(holds, now + LEASE_MS) });
  return { view: standing(store, own), wakes };
}

/**
 * A job of the deployment ended: with `target`, that target is done, and the application is free once
 * every target is; without, the whole deployment left. A holder that leaves lets the waiting one go on.
 */
export function leave(store: QueueStore, request: LeaveQueueRequest, now: number): Change {
  const wakes = expire(store, now);
  const own = ownMember(store, request.runId);
  if (!own) return { view: absentView(store, request.runId), wakes };
  if (request.target !== undefined) {
    const left = [...new Set([...own.left, request.target])].slice(0, MAX_TARGETS_PER_RUN);
    if (own.targets.some((target) => !left.includes(target))) {
      const holds = holdsInForce(own, now).filter((hold) => hold.job !== request.target);
      store.put({ ...own, left, holds, leaseUntil: leaseWith(holds, now + BETWEEN_JOBS_MS) });
      return { view: standing(store, own), wakes };
    }
  }
  store.remove(own.runId);
  if (own.role === 'holder') wakes.push(...promote(store, now));
  else if (own.wakeGates.length > 0) {
    // Its other jobs still waiting would otherwise wait out their 24 hours.
    wakes.push({ runId: own.runId, gateIds: own.wakeGates, success: false, mdMessage: 'the deployment left the deploy queue' });
  }
  return { view: { position: 'gone', holder: holderView(store), replacedBy: null }, wakes };
}

/** Where `runId` stands, without changing its place. */
export function look(store: QueueStore, runId: string, now: number): Change {
  const wakes = expire(store, now);
  const own = ownMember(store, runId);
  return { view: own ? standing(store, own) : absentView(store, runId), wakes };
}

/**
 * Ends the places whose lease ran out (a job that died, a parked one past its hold); a holder's
 * end lets the waiting one go on. Run first by every change: the lease, not the (possibly late) alarm, ends a place.
 */
export function expire(store: QueueStore, now: number): Wake[] {
  const wakes: Wake[] = [];
  store.forgetReplacedBefore(now - KEEP_REPLACED_MS);
  const waiting = store.member('waiting');
  if (waiting && waiting.leaseUntil <= now) {
    store.remove(waiting.runId);
    if (waiting.wakeGates.length > 0) {
      wakes.push({ runId: waiting.runId, gateIds: waiting.wakeGates, success: false, mdMessage: 'its place in the deploy queue ran out (no renewal from its job)' });
    }
  }
  const holder = store.member('holder');
  if (holder && holder.leaseUntil <= now) {
    store.remove(holder.runId);
    wakes.push(...promote(store, now));
  }
  return wakes;
}

/** The waiting one, if any, becomes the holder; its queue gates are decided success. */
function promote(store: QueueStore, now: number): Wake[] {
  const waiting = store.member('waiting');
  if (!waiting) return [];
  store.remove(waiting.runId);
  // Its job may be parked: its hold stands until its resumed run renews.
  store.put({ ...waiting, role: 'holder', since: now, leaseUntil: Math.max(waiting.leaseUntil, now + LEASE_MS), wakeGates: [] });
  return waiting.wakeGates.length === 0 ? [] : [{ runId: waiting.runId, gateIds: waiting.wakeGates, success: true, mdMessage: WENT_ON }];
}

/**
 * The member entering again: the newest attempt and page, every target named so far, a fresh lease.
 * A newer attempt (a re-run) starts with no target left: its jobs run again; one not re-run never
 * leaves, and the lease ends the place.
 */
function refreshed(member: Member, request: EnterQueueRequest, now: number): Member {
  const newer = request.attempt > member.attempt;
  return {
    ...member,
    left: newer ? [] : member.left,
    attempt: Math.max(member.attempt, request.attempt),
    runUrl: newer || member.runUrl === '' ? request.runUrl : member.runUrl,
    leaseUntil: Math.max(member.leaseUntil, now + LEASE_MS),
    targets: [...new Set([...member.targets, ...request.targets])].slice(0, MAX_TARGETS_PER_RUN),
  };
}

function holdsInForce(member: Member, now: number): Member['holds'] {
  return member.holds.filter((hold) => hold.until > now);
}

/** The lease: `floor` (a live job's), or the latest hold in force. */
function leaseWith(holds: Member['holds'], floor: number): number {
  return Math.max(floor, ...holds.map((hold) => hold.until));
}

function replacedWake(runId: string, gateIds: string[], by: { runId: string; runUrl: string }): Wake {
  return { runId, gateIds, success: false, mdMessage: `replaced in the deploy queue by ${by.runUrl || by.runId}` };
}

function ownMember(store: QueueStore, runId: string): Member | undefined {
  return [store.member('holder'), store.member('waiting')].find((member) => member?.runId === runId);
}

function standing(store: QueueStore, own: Member): QueueView {
  return own.role === 'holder' ? { position: 'holding', holder: null, replacedBy: null } : waitingView(store.member('holder'));
}

function waitingView(holder: Member | undefined): QueueView {
  return { position: 'waiting', holder: holder ? publicView(holder) : null, replacedBy: null };
}

function absentView(store: QueueStore, runId: string): QueueView {
  const replaced = store.replaced(runId);
  return { position: replaced ? 'replaced' : 'gone', holder: holderView(store), replacedBy: replaced?.by ?? null };
}

function holderView(store: QueueStore): QueueView['holder'] {
  const holder = store.member('holder');
  return holder ? publicView(holder) : null;
}
