/**
 * The relay tests' fake of GitHub's OAuth web flow and of the user, team and collaborator
 * endpoints (issue 12), reached through miniflare's outbound service (index.ts).
 * - `GET {web}/login/oauth/authorize`: checks client_id, redirect_uri, state and an S256 PKCE
 *   challenge, then "signs in" the user named by `login` (GitHub's own hint parameter; a test
 *   adds it) and answers 302 to redirect_uri with a one-use code and the state.
 * - `POST {web}/login/oauth/access_token`: checks the client id and secret (Basic, as arctic
 *   sends them), the code (once), redirect_uri and the verifier against the challenge; answers a
 *   refusal with 200 and `error`, as GitHub does.
 * - `GET {api}/user` with the user token; team memberships and collaborator permission with an
 *   installation token of the fake App (github-app.ts).
 * Tests script people with `POST /_control/people {users?: {login: id}, teams?: {"org/team": [logins]},
 * permissions?: {"owner/repo": {login: permission}}}` and read `GET /_control/people/log?login=`
 * (how many membership and permission questions were asked about that login).
 */
import { createHash } from 'node:crypto';
import { githubApp, githubError } from './github-app.ts';

export const RELAY_TEST_CLIENT_ID = 'Iv1.relaytest0001';
export const RELAY_TEST_CLIENT_SECRET = 'relay-test-client-secret-0001';

type Grant = { login: string; redirectUri: string; challenge: string; used: boolean };
const grants = new Map<string, Grant>();
const userTokens = new Map<string, string>();
const users = new Map<string, number>();
const teams = new Map<string, Set<string>>();
const permissions = new Map<string, Map<string, string>>();
const questions = new Map<string, number>();

function oauthError(error: string): Response {
  return Response.json({ error, error_description: `the fake GitHub refused: ${error}` });
}

function userId(login: string): number {
  let id = users.get(login.toLowerCase());
  if (id === undefined) {
    id = 50_000 + users.size;
    users.set(login.toLowerCase(), id);
  }
  return id;
}

function asked(login: string): void {
  questions.set(login.toLowerCase(), (questions.get(login.toLowerCase()) ?? 0) + 1);
}

/** True when `authorization` carries an installation token the fake App handed out for `repository` (any, when null). */
async function installationToken(authorization: string | null, repository: string | null): Promise<boolean> {
  const token = /^token (ghs_fake\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return false;
  if (repository === null) return true;
  const log = await githubApp(new Request(`https://api.github.test/_control/log?repository=${repository}`), new URL(`https://api.github.test/_control/log?repository=${repository}`));
  const { tokens } = (await log?.json()) as { tokens: string[] };
  return tokens.includes(token);
}

function authorize(url: URL): Response {
  const query = url.searchParams;
  if (query.get('client_id') !== RELAY_TEST_CLIENT_ID) return githubError(404, 'no such OAuth application');
  if (query.get('response_type') !== 'code' || !query.get('state')) return githubError(400, 'response_type=code and state are required');
  if (query.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(query.get('code_challenge') ?? '')) {
    return githubError(400, 'an S256 code_challenge is required');
  }
  const redirectUri = query.get('redirect_uri') ?? '';
  if (!/^https:\/\/relay\.test\/auth\/github\/callback$/.test(redirectUri)) return githubError(400, 'redirect_uri is not registered');
  const login = query.get('login') ?? 'octocat';
  const code = `code-${crypto.randomUUID()}`;
  grants.set(code, { login, redirectUri, challenge: query.get('code_challenge') ?? '', used: false });
  const back = new URL(redirectUri);
  back.searchParams.set('code', code);
  back.searchParams.set('state', query.get('state') ?? '');
  return new Response(null, { status: 302, headers: { location: back.href } });
}

async function accessToken(request: Request): Promise<Response> {
  const basic = /^Basic (\S+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
  const expected = Buffer.from(`${RELAY_TEST_CLIENT_ID}:${RELAY_TEST_CLIENT_SECRET}`).toString('base64');
  if (basic !== expected) return oauthError('incorrect_client_credentials');
  const body = new URLSearchParams(await request.text());
  const grant = grants.get(body.get('code') ?? '');
  if (body.get('grant_type') !== 'authorization_code' || !grant || grant.used) return oauthError('bad_verification_code');
  grant.used = true;
  if (body.get('redirect_uri') !== grant.redirectUri) return oauthError('redirect_uri_mismatch');
  const challenge = createHash('sha256').update(body.get('code_verifier') ?? '').digest('base64url');
  if (challenge !== grant.challenge) return oauthError('bad_verification_code');
  const token = `gho_fake${crypto.randomUUID().replace(/-/g, '')}`;
  userTokens.set(token, grant.login);
  return Response.json({ access_token: token, token_type: 'bearer', scope: '' });
}

function script(people: { users?: Record<string, number>; teams?: Record<string, string[]>; permissions?: Record<string, Record<string, string>> }): Response {
  for (const [login, id] of Object.entries(people.users ?? {})) users.set(login.toLowerCase(), id);
  for (const [team, logins] of Object.entries(people.teams ?? {})) teams.set(team.toLowerCase(), new Set(logins.map((l) => l.toLowerCase())));
  for (const [repo, byLogin] of Object.entries(people.permissions ?? {})) {
    permissions.set(repo.toLowerCase(), new Map(Object.entries(byLogin).map(([login, p]) => [login.toLowerCase(), p])));
  }
  return Response.json({ ok: true });
}

/** The answer, or null for a request this fake does not serve. */
export async function githubOAuth(request: Request, url: URL): Promise<Response | null> {
  const path = url.pathname;
  if (path === '/_control/people') return script(await request.json());
  if (path === '/_control/people/log') return Response.json({ questions: questions.get((url.searchParams.get('login') ?? '').toLowerCase()) ?? 0 });
  if (path === '/login/oauth/authorize' && request.method === 'GET') return authorize(url);
  if (path === '/login/oauth/access_token' && request.method === 'POST') return accessToken(request);
  if (path === '/user' && request.method === 'GET') {
    const login = userTokens.get(/^Bearer (\S+)$/.exec(request.headers.get('authorization') ?? '')?.[1] ?? '');
    return login ? Response.json({ login, id: userId(login), type: 'User' }) : githubError(401, 'Bad credentials');
  }
  const team = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(path);
  if (team && request.method === 'GET') {
    if (!(await installationToken(request.headers.get('authorization'), null))) return githubError(401, 'Bad credentials');
    const login = decodeURIComponent(team[3] ?? '');
    asked(login);
    const members = teams.get(`${team[1]}/${team[2]}`.toLowerCase());
    return members?.has(login.toLowerCase()) ? Response.json({ state: 'active', role: 'member' }) : githubError(404, 'Not Found');
  }
  const collaborator = /^\/repos\/([^/]+\/[^/]+)\/collaborators\/([^/]+)\/permission$/.exec(path);
  if (collaborator && request.method === 'GET') {
    const repository = decodeURIComponent(collaborator[1] ?? '');
    if (!(await installationToken(request.headers.get('authorization'), repository))) return githubError(401, 'Bad credentials');
    const login = decodeURIComponent(collaborator[2] ?? '');
    asked(login);
    const permission = permissions.get(repository.toLowerCase())?.get(login.toLowerCase());
    if (permission === undefined) return githubError(404, `${login} is not a user`);
    const roleName = permission === 'maintain' ? 'maintain' : permission;
    return Response.json({ permission: permission === 'maintain' ? 'write' : permission, role_name: roleName, user: { login } });
  }
  return null;
}
