/**
 * Who a GitHub user is, and what they are to a repository (issue 12): `GET /user` with the
 * user's own token (used once, never stored), team membership and collaborator permission with
 * the App's installation token of the run's repository (relay/github/app.ts). Errors carry
 * GitHub's status only: no token, no request headers.
 */
import { z } from 'zod';
import { appApi, forgetInstallation, installationToken } from './app.ts';
import type { GitHubApp } from './app-config.ts';

const User = z.object({ login: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/), id: z.number().int().positive() });
const Membership = z.object({ state: z.string() });
const Permission = z.object({ permission: z.string(), role_name: z.string().optional() });

/** The status of what @octokit/request throws for a refusal (its RequestError, not a dependency of ours); 0 for anything else. */
function statusOf(error: unknown): number {
  const status = error instanceof Error ? (error as { status?: unknown }).status : undefined;
  return typeof status === 'number' ? status : 0;
}

/** GitHub could not answer (or answered what the relay did not expect): `status` is GitHub's, 0 for none. */
export class GitHubUnavailable extends Error {
  readonly status: number;

  constructor(status: number) {
    super(status === 0 ? 'GitHub could not be reached' : `GitHub answered ${status}`);
    this.name = 'GitHubUnavailable';
    this.status = status;
  }
}

/** Runs a request, turning any failure into GitHubUnavailable (or null for a 404 when `notFound` is set). */
async function ask<T>(call: () => Promise<{ data: unknown }>, schema: z.ZodType<T>, notFound: boolean): Promise<T | null> {
  let data: unknown;
  try {
    ({ data } = await call());
  } catch (error) {
    const status = statusOf(error);
    if (notFound && status === 404) return null;
    throw new GitHubUnavailable(status);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new GitHubUnavailable(200);
  return parsed.data;
}

/** The signed-in user of `userToken`: login and id. */
export async function currentUser(app: GitHubApp, userToken: string): Promise<{ login: string; id: number }> {
  const headers = { authorization: `Bearer ${userToken}` };
  const user = await ask(() => appApi(app)('GET /user', { headers }), User, false);
  if (!user) throw new GitHubUnavailable(404);
  return user;
}

/** The installation token of `repository` for the App, or GitHubUnavailable (the App not installed there: 404). */
async function repoToken(app: GitHubApp, repository: string): Promise<string> {
  try {
    return await installationToken(app, repository);
  } catch (error) {
    // As dispatch.ts does: the App may since have been installed (or reinstalled), so look it up again next time.
    forgetInstallation(app, repository);
    throw new GitHubUnavailable(statusOf(error));
  }
}

/** Whether `username` is an active member of team `org/team` (404: not a member, or a team the App cannot see). */
export async function isTeamMember(app: GitHubApp, repository: string, org: string, team: string, username: string): Promise<boolean> {
  const headers = { authorization: `token ${await repoToken(app, repository)}` };
  const route = 'GET /orgs/{org}/teams/{team_slug}/memberships/{username}';
  const membership = await ask(() => appApi(app)(route, { org, team_slug: team, username, headers }), Membership, true);
  return membership?.state === 'active';
}

/**
 * `username`'s permission on `repository`: `admin`, `write`, `read` or `none` (GitHub reports
 * `maintain` as `write` here, and custom roles in `role_name`); `none` for a 404.
 */
export async function repoPermission(app: GitHubApp, repository: string, username: string): Promise<{ permission: string; roleName: string }> {
  const [owner = '', repo = ''] = repository.split('/');
  const headers = { authorization: `token ${await repoToken(app, repository)}` };
  const route = 'GET /repos/{owner}/{repo}/collaborators/{username}/permission';
  const answer = await ask(() => appApi(app)(route, { owner, repo, username, headers }), Permission, true);
  return { permission: answer?.permission ?? 'none', roleName: answer?.role_name ?? '' };
}
