/**
 * The relay tests' fake of GitHub's App endpoints (the resume dispatches of SPEC §9), reached
 * through miniflare's outbound service (index.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import { jwtVerify } from 'jose';

/**
 * The relay tests' GitHub App: a key pair made for each run, its PKCS#1 PEM (as GitHub hands it
 * out) the relay's GITHUB_APP_PRIVATE_KEY; the PKCS#8 form and the public key reach the tests
 * as bindings (test/relay/github/app-config.test.ts signs with both).
 */
export const RELAY_TEST_GITHUB = 'https://api.github.test';
export const RELAY_TEST_APP_ID = '424242';
/** The App's slug (`GET /app`): the runs it dispatches are triggered by `<slug>[bot]`. */
export const RELAY_TEST_APP_SLUG = 'hookgate-relay-test';
export const relayAppKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

/**
 * A fake of GitHub's App endpoints for the relay's resume dispatches. It checks the App JWT
 * (RS256 with the App's key, iss = the App id, at most 10 minutes long, not expired) and the
 * installation token on each dispatch, and logs what it got per repository. A test scripts a
 * repository's answers with `POST /_control/script {repository, dispatch?, installed?, runs?}`
 * (dispatch: `details` 200 with the run, `no-content` 204, `ghes` 422 naming return_run_details
 * when sent, `refuse` 422, `error` 500, `lost` accepted — the run starts — but answered 502, as a
 * connection broken before the answer; runs: `list` the runs, `error` 500 on listing them) and reads
 * `GET /_control/log?repository=`. Every accepted dispatch starts a run (github-runs.ts lists them).
 */
export type FakeRun = { id: number; path: string; head_branch: string; event: string; created_at: string; html_url: string; actor: string };
export type FakeRepo = {
  installationId: number;
  dispatch: 'details' | 'no-content' | 'ghes' | 'refuse' | 'error' | 'lost';
  runs: 'list' | 'error';
  installed: boolean;
  lookups: number;
  tokens: string[];
  dispatches: { ref: unknown; inputs: unknown; returnRunDetails: unknown; workflow: string }[];
  /** The runs accepted dispatches started, oldest first; a test may add one (another actor's). */
  started: FakeRun[];
  /** The queries of the run lists the relay asked for. */
  listings: Record<string, string>[];
};
const fakeRepos = new Map<string, FakeRepo>();

export function fakeRepo(repository: string): FakeRepo {
  const name = repository.toLowerCase();
  let repo = fakeRepos.get(name);
  if (!repo) {
    repo = { installationId: 9000 + fakeRepos.size, dispatch: 'details', runs: 'list', installed: true, lookups: 0, tokens: [], dispatches: [], started: [], listings: [] };
    fakeRepos.set(name, repo);
  }
  return repo;
}

export function githubError(status: number, message: string): Response {
  return Response.json({ message, documentation_url: 'https://docs.github.com/rest' }, { status });
}

/** The App JWT of `authorization` (`Bearer <jwt>`) verified as GitHub does; null when it is not one. */
export async function verifiedAppJwt(authorization: string | null): Promise<boolean> {
  const token = /^bearer (\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return false;
  try {
    const { payload } = await jwtVerify(token, relayAppKey.publicKey, { algorithms: ['RS256'], issuer: RELAY_TEST_APP_ID });
    return typeof payload.iat === 'number' && typeof payload.exp === 'number' && payload.exp - payload.iat <= 600;
  } catch {
    return false;
  }
}

/** The App endpoints' answer, or null for another path. */
export async function githubApp(request: Request, url: URL): Promise<Response | null> {
  const path = url.pathname;
  if (path === '/_control/script') {
    const script = (await request.json()) as { repository: string; dispatch?: FakeRepo['dispatch']; runs?: FakeRepo['runs']; installed?: boolean; started?: FakeRun[] };
    Object.assign(fakeRepo(script.repository), { ...script, repository: undefined });
    return Response.json(fakeRepo(script.repository));
  }
  if (path === '/_control/log') return Response.json(fakeRepo(url.searchParams.get('repository') ?? ''));
  if (path === '/app' && request.method === 'GET') {
    if (!(await verifiedAppJwt(request.headers.get('authorization')))) return githubError(401, 'A JSON web token could not be decoded');
    return Response.json({ id: Number(RELAY_TEST_APP_ID), slug: RELAY_TEST_APP_SLUG, name: 'hookgate relay test', permissions: { actions: 'write' } });
  }
  const installation = /^\/repos\/([^/]+\/[^/]+)\/installation$/.exec(path);
  if (installation && request.method === 'GET') {
    if (!(await verifiedAppJwt(request.headers.get('authorization')))) return githubError(401, 'A JSON web token could not be decoded');
    const repo = fakeRepo(decodeURIComponent(installation[1] ?? ''));
    repo.lookups += 1;
    return repo.installed ? Response.json({ id: repo.installationId, app_id: Number(RELAY_TEST_APP_ID) }) : githubError(404, 'Not Found');
  }
  const tokens = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
  if (tokens && request.method === 'POST') {
    if (!(await verifiedAppJwt(request.headers.get('authorization')))) return githubError(401, 'A JSON web token could not be decoded');
    const repo = [...fakeRepos.values()].find((candidate) => String(candidate.installationId) === tokens[1]);
    if (!repo) return githubError(404, 'Not Found');
    const token = `ghs_fake${repo.installationId}x${repo.tokens.length + 1}`;
    repo.tokens.push(token);
    const expires = new Date(Date.now() + 3600_000).toISOString();
    return Response.json({ token, expires_at: expires, permissions: { actions: 'write' }, repository_selection: 'all' }, { status: 201 });
  }
  const dispatch = /^\/repos\/([^/]+\/[^/]+)\/actions\/workflows\/([^/]+)\/dispatches$/.exec(path);
  if (dispatch && request.method === 'POST') {
    const repo = fakeRepo(decodeURIComponent(dispatch[1] ?? ''));
    const token = /^token (\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
    if (!token || !repo.tokens.includes(token)) return githubError(401, 'Bad credentials');
    const body = (await request.json()) as { ref?: unknown; inputs?: unknown; return_run_details?: unknown };
    if (repo.dispatch === 'ghes' && 'return_run_details' in body) {
      return githubError(422, 'Invalid request.\n\n"return_run_details" is not a permitted key.');
    }
    if (repo.dispatch === 'refuse') return githubError(422, "Workflow does not have 'workflow_dispatch' trigger");
    if (repo.dispatch === 'error') return githubError(500, 'Server Error');
    const workflow = decodeURIComponent(dispatch[2] ?? '');
    repo.dispatches.push({ ref: body.ref, inputs: body.inputs, returnRunDetails: body.return_run_details, workflow });
    const id = 7000 + repo.dispatches.length;
    const page = `https://github.test/${dispatch[1]}/actions/runs/${id}`;
    const created = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const actor = `${RELAY_TEST_APP_SLUG}[bot]`;
    repo.started.push({ id, path: `.github/workflows/${workflow}`, head_branch: String(body.ref), event: 'workflow_dispatch', created_at: created, html_url: page, actor });
    if (repo.dispatch === 'lost') return new Response('upstream connect error or disconnect/reset before headers', { status: 502 });
    if (repo.dispatch === 'details' && body.return_run_details === true) {
      return Response.json({ workflow_run_id: id, run_url: `${RELAY_TEST_GITHUB}/repos/${dispatch[1]}/actions/runs/${id}`, html_url: page });
    }
    return new Response(null, { status: 204 });
  }
  return null;
}

