/**
 * Users, teams and repository roles, and the two endpoints that ask about them with the App's
 * installation token, answering as GitHub's OpenAPI description says:
 * `GET /orgs/{org}/teams/{team_slug}/memberships/{username}` (200 `{url, role, state}`, 404 when
 * not a member; the App needs `members: read`) and
 * `GET /repos/{owner}/{repo}/collaborators/{username}/permission` (200 `{permission, role_name,
 * user}`, `maintain` reported as `write` in `permission`; 404 for no such user).
 */
import type { AppAuthority } from './app-auth.ts';
import type { FakePeople, RepositoryRole } from './app-types.ts';
import { Refusal } from './types.ts';
import type { Answer } from './types.ts';

export const MEMBERSHIP_PATH = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/;
export const PERMISSION_PATH = /^\/repos\/([^/]+\/[^/]+)\/collaborators\/([^/]+)\/permission$/;
const FIRST_USER_ID = 5_000_001;

/** A user as GitHub's API shows one. */
export interface FakeUser {
  login: string;
  id: number;
}

export interface Directory {
  /** The user of that login (any case), null for none. */
  user(login: string): FakeUser | null;
  logins(): string[];
  /** GitHub's JSON of a user. */
  userJson(user: FakeUser, base: string): Record<string, unknown>;
  /** The membership endpoint; throws GitHub's refusal. */
  membership(org: string, slug: string, username: string, authorization: string, base: string): Answer;
  /** The collaborator permission endpoint; throws GitHub's refusal. */
  permission(repository: string, username: string, authorization: string, base: string): Answer;
}

/** The directory of `people`; `authority` is null when the fake has no App (every request then 401). */
export function directory(people: FakePeople, authority: AppAuthority | null): Directory {
  const users = people.users.map((login, index) => ({ login, id: FIRST_USER_ID + index }));
  const find = (login: string): FakeUser | null => users.find((u) => u.login.toLowerCase() === decodeURIComponent(login).toLowerCase()) ?? null;
  const teamOf = (teams: Record<string, string[]> | undefined, key: string): string[] =>
    Object.entries(teams ?? {}).find(([name]) => name.toLowerCase() === key)?.[1].map((l) => l.toLowerCase()) ?? [];
  const self: Directory = {
    user: find,
    logins: () => users.map((u) => u.login),
    userJson: (user, base) => ({
      login: user.login,
      id: user.id,
      node_id: `U_${user.id}`,
      avatar_url: `${base}/avatars/${user.id}`,
      url: `${base}/users/${user.login}`,
      html_url: `${base}/${user.login}`,
      type: 'User',
      site_admin: false,
      name: user.login,
    }),
    membership(org, slug, username, authorization, base) {
      if (!authority) throw new Refusal(401, 'Bad credentials');
      authority.checkOrgToken(authorization, org);
      authority.checkPermission('members', 'read');
      const user = find(username);
      const key = `@${decodeURIComponent(org)}/${decodeURIComponent(slug)}`.toLowerCase();
      if (!user) throw new Refusal(404, 'Not Found');
      const login = user.login.toLowerCase();
      const state = teamOf(people.teams, key).includes(login) ? 'active' : teamOf(people.pendingMembers, key).includes(login) ? 'pending' : null;
      if (state === null) throw new Refusal(404, 'Not Found');
      return { status: 200, body: { url: `${base}/organizations/1/team/1/memberships/${user.login}`, role: 'member', state } };
    },
    permission(repository, username, authorization, base) {
      if (!authority) throw new Refusal(401, 'Bad credentials');
      authority.checkToken(authorization, repository);
      const user = find(username);
      if (!user) throw new Refusal(404, 'Not Found');
      const roles = Object.entries(people.roles ?? {}).find(([name]) => name.toLowerCase() === repository.toLowerCase())?.[1] ?? {};
      const role: RepositoryRole = Object.entries(roles).find(([login]) => login.toLowerCase() === user.login.toLowerCase())?.[1] ?? 'read';
      const permission = { admin: 'admin', maintain: 'write', write: 'write', triage: 'read', read: 'read' }[role];
      return { status: 200, body: { permission, role_name: role, user: { ...self.userJson(user, base), permissions: permissionsOf(role), role_name: role } } };
    },
  };
  return self;
}

/** The `permissions` object GitHub shows with a collaborator. */
function permissionsOf(role: RepositoryRole): Record<string, boolean> {
  const rank = ['read', 'triage', 'write', 'maintain', 'admin'].indexOf(role);
  return { pull: rank >= 0, triage: rank >= 1, push: rank >= 2, maintain: rank >= 3, admin: rank >= 4 };
}
