// The file's top-level `roles:` map (role → GitHub logins and `@org/team`s), and the approvers a pause's
// requiresRoles name through it (SPEC §10). A role the map lacks is the team of that slug in the
// repository owner's organization, so Armory files, which have no `roles:`, keep their meaning.
import { ApprovalPolicy, MAX_APPROVERS } from '../../shared/protocol.ts';
import { fail, mapOf, notice, suggest } from './fields.ts';
import type { Ctx } from './fields.ts';
import { describe } from './schemas.ts';
import type { Path } from './yaml-locator.ts';

/** Most roles one file may define: far above any organisation's, and it bounds the map. */
const MAX_ROLES = 100;
const MAX_ROLE_NAME_CHARS = 100;
// The relay's own rule for an approver, so the file refuses what the relay would.
const approverEntry = ApprovalPolicy.shape.approvers.unwrap().element;

/**
 * The slug GitHub gives a team of this name (`Release Managers` → `release-managers`): lower case, each
 * run of other characters one `-`. An Armory role name is free text; '' when nothing of it is left.
 */
export function teamSlug(role: string): string {
  return role.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
}

/** Drops repeats, GitHub names being case-insensitive; the first spelling stays. */
export function withoutRepeats(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.filter((name) => {
    const key = name.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function entryProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'string') return `expected a GitHub login (mona) or team (@acme/release-team), got ${describe(entry)}`;
  if (approverEntry.safeParse(entry).success) return undefined;
  if (/^@[^/]*$/.test(entry)) return `expected a GitHub login or team, got the string '${entry}': write a person's login without @ (mona), a team as @org/team`;
  return `expected a GitHub login (mona) or team (@acme/release-team), got ${describe(entry)}`;
}

function readRole(ctx: Ctx, raw: unknown, path: Path): string[] {
  // One login or team may be written without the list.
  const single = typeof raw === 'string';
  const list: unknown = single ? [raw] : raw;
  if (!Array.isArray(list)) {
    fail(ctx, path, `expected a list of GitHub logins and teams (@org/team), got ${describe(raw)}`);
    return [];
  }
  // An empty role would leave the gate to nobody, or (with no approvers at all) to anyone with write access.
  if (list.length === 0) {
    fail(ctx, path, 'needs at least one GitHub login or team (@org/team)');
    return [];
  }
  if (list.length > MAX_APPROVERS) {
    fail(ctx, path, `has ${list.length} entries; an approval may name at most ${MAX_APPROVERS} approvers`);
    return [];
  }
  const entries: string[] = [];
  list.forEach((entry: unknown, i) => {
    const problem = entryProblem(entry);
    if (problem === undefined && typeof entry === 'string') entries.push(entry);
    else fail(ctx, single ? path : [...path, i], problem ?? 'expected a GitHub login or team');
  });
  return withoutRepeats(entries);
}

/** The top-level `roles:` map, every role kept (with its valid entries) so a step naming it gets no second error. */
export function readRoles(ctx: Ctx, value: unknown): Map<string, string[]> {
  const roles = new Map<string, string[]>();
  if (value === undefined || value === null) return roles;
  const all = mapOf(ctx, value, ['roles'], 'role names to GitHub logins and teams');
  if (all === undefined) return roles;
  const names = Object.keys(all);
  if (names.length > MAX_ROLES) {
    fail(ctx, ['roles'], `defines ${names.length} roles; at most ${MAX_ROLES}`);
    return roles;
  }
  for (const name of names) {
    if ([...name].length > MAX_ROLE_NAME_CHARS) fail(ctx, ['roles', name], `a role name has at most ${MAX_ROLE_NAME_CHARS} characters`, 'key');
    roles.set(name, readRole(ctx, all[name], ['roles', name]));
  }
  return roles;
}

/**
 * The approvers of a pause's roles (`path`: its requiresRoles or requiresRole key): the entries of each
 * role under `roles:`, and the roles it lacks as the owner's teams. Reports unknown names and too many approvers.
 */
export function resolveRoles(ctx: Ctx, roles: readonly string[], path: Path, single: boolean): { approvers: string[]; ownerTeams: string[] } {
  const approvers: string[] = [];
  const ownerTeams: string[] = [];
  roles.forEach((role, i) => {
    const at = single ? path : [...path, i];
    const entries = ctx.roles.get(role);
    if (entries !== undefined) {
      approvers.push(...entries);
      return;
    }
    // A near miss of a defined role is a typo far more often than a team of that name.
    const hint = suggest(role, ctx.roles.keys());
    if (hint !== '') {
      fail(ctx, at, `role '${role}' is not defined under roles${hint}`);
      return;
    }
    const slug = teamSlug(role);
    if (slug === '') {
      fail(ctx, at, `role '${role}' is not defined under roles, and has no letter or digit to make a team's slug of; define it under roles`);
      return;
    }
    ownerTeams.push(slug);
    notice(ctx, 'role-as-team', path, `names role ${role}, which is not defined under roles: it means the team ${slug} of the repository owner's organization`);
  });
  const result = { approvers: withoutRepeats(approvers), ownerTeams: withoutRepeats(ownerTeams) };
  const count = result.approvers.length + result.ownerTeams.length;
  if (count > MAX_APPROVERS) fail(ctx, path, `names ${count} approvers through roles; an approval may name at most ${MAX_APPROVERS}`);
  return result;
}
