/** Who acts on a run: the edge (relay/worker/auth.ts) authenticates, the run object decides what they may do. */

/**
 * The caller of an action route. `token`: RELAY_TOKEN, the operator's own credential, which may
 * act on every run. `oidc`: one repository's job, which may act only on runs that repository owns.
 */
export type Principal =
  | { kind: 'token' }
  | { kind: 'oidc'; repository: string; repositoryId: string; repositoryOwner: string };
