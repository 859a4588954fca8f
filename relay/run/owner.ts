/**
 * Whose a run is (SPEC §6): the repository whose OIDC token wrote to it first, or the
 * relay token's when RELAY_TOKEN wrote first. Repositories are told apart by GitHub's
 * repository_id, not by name: a name can be renamed, or deleted and taken by someone else.
 * A run id that names a repository (`owner/repo/…`, the action's default) is that
 * repository's alone, owned or not: no other repository can claim it first.
 */
import type { Principal } from './principal.ts';
import type { RunStore } from './store.ts';

/** The run's `run_owner` row (relay/run/schema.ts step 3). */
export type OwnerRow = {
  kind: 'token' | 'repository';
  repository_id: string | null;
  /** The name at claim time: for an operator reading storage, never compared. */
  repository: string | null;
  claimed_at: number;
};

/**
 * Whether `caller` may act on a run owned by `owner` (undefined: nobody wrote to it yet).
 * RELAY_TOKEN is the operator's credential and acts on every run; an OIDC caller only on
 * runs its repository owns, never on a token-owned one.
 */
export function mayAct(owner: OwnerRow | undefined, caller: Principal): boolean {
  if (caller.kind === 'token' || owner === undefined) return true;
  return owner.kind === 'repository' && owner.repository_id === caller.repositoryId;
}

/** The owner a first write by `caller` records. */
export function ownerFor(caller: Principal, now: number): OwnerRow {
  return caller.kind === 'token'
    ? { kind: 'token', repository_id: null, repository: null, claimed_at: now }
    : { kind: 'repository', repository_id: caller.repositoryId, repository: caller.repository, claimed_at: now };
}

/**
 * Whether `caller` may act on a run of this id at all: a run id of the form `owner/repo/…`
 * belongs to that repository (names compared case-insensitively, as GitHub does) and is
 * refused to every other repository's token, even before anyone wrote to it. Otherwise a job
 * of another allowed repository could claim `acme/app/<next run id>` first and lock acme/app out.
 */
export function runIdAdmits(runId: string, caller: Principal): boolean {
  if (caller.kind === 'token') return true;
  const named = /^([^/]+\/[^/]+)\/./.exec(runId)?.[1];
  return named === undefined || named.toLowerCase() === caller.repository.toLowerCase();
}

/**
 * Admits the run object's callers: the owner is read once and claimed by the first write. A read
 * (`claim` false) of a run that stored nothing creates nothing (relay/run/tables.ts).
 */
export class Ownership {
  private readonly stored: () => RunStore | undefined;
  private readonly created: () => RunStore;
  /** The run's owner once known (claimed or read); undefined: nobody has written to the run yet, or not read yet. */
  private owner: OwnerRow | undefined = undefined;

  /** `stored`: the run's tables if they exist; `created`: its tables, created first if need be. */
  constructor(stored: () => RunStore | undefined, created: () => RunStore) {
    this.stored = stored;
    this.created = created;
  }

  /**
   * Whether `caller` may act on this run; a write (`claim`) by the first caller makes the run
   * its own. Synchronous, so no other request runs between the check and the claim.
   */
  admit(caller: Principal, runId: string, claim: boolean): boolean {
    if (!runIdAdmits(runId, caller)) return false;
    // An owner never changes once stored: read it once, not on every long-poll.
    const owner = (this.owner ??= this.stored()?.owner());
    if (owner === undefined && claim) {
      this.owner = ownerFor(caller, Date.now());
      this.created().claimOwner(this.owner);
    }
    return mayAct(owner, caller);
  }

  /** The run's storage was deleted: its owner with it. */
  forget(): void {
    this.owner = undefined;
  }
}
