/**
 * The relay as a GitHub App: App JWT (@octokit/auth-app, which signs with
 * universal-github-app-jwt: no hand-written JWT) → the repository's installation → an
 * installation token. auth-app caches each installation's token until a minute before GitHub
 * expires it (an hour), so dispatches within the hour mint no new one.
 */
import { createAppAuth } from '@octokit/auth-app';
import { request } from '@octokit/request';
import type { GitHubApp } from './app-config.ts';

/** The REST client of one App: its auth (and token cache) and the installations found per repository. */
type AppClient = {
  api: typeof request;
  auth: ReturnType<typeof createAppAuth>;
  installations: Map<string, number>;
  /** The App's slug (`GET /app`), once known: its bot is `<slug>[bot]`. */
  slug?: string;
};

/** One client per App for the isolate's life, so the caches outlive a single alarm. */
const clients = new Map<string, AppClient>();

function client(app: GitHubApp): AppClient {
  const key = JSON.stringify([app.appId, app.apiUrl, app.privateKey]);
  let found = clients.get(key);
  if (!found) {
    const api = request.defaults({ baseUrl: app.apiUrl, headers: { 'user-agent': 'hookgate-relay' } });
    const auth = createAppAuth({ appId: app.appId, privateKey: app.privateKey, request: api });
    found = { api, auth, installations: new Map() };
    // An App's configuration rarely changes; a change leaves one stale client behind, never more.
    clients.clear();
    clients.set(key, found);
  }
  return found;
}

/** The App's REST client, for requests that carry their own authorization. */
export function appApi(app: GitHubApp): typeof request {
  return client(app).api;
}

/** An installation token for `repository` (`owner/repo`): throws GitHub's RequestError when the App is not installed there. */
export async function installationToken(app: GitHubApp, repository: string): Promise<string> {
  const { api, auth, installations } = client(app);
  const name = repository.toLowerCase();
  let installationId = installations.get(name);
  if (installationId === undefined) {
    const [owner = '', repo = ''] = repository.split('/');
    // auth.hook signs this request with the App's JWT (an installation lookup needs App auth).
    const { data } = await api('GET /repos/{owner}/{repo}/installation', { owner, repo, request: { hook: auth.hook } });
    installationId = data.id;
    installations.set(name, installationId);
  }
  const { token } = await auth({ type: 'installation', installationId });
  return token;
}

/** Forgets the installation found for `repository`: after a refusal the App may have been reinstalled elsewhere. */
export function forgetInstallation(app: GitHubApp, repository: string): void {
  client(app).installations.delete(repository.toLowerCase());
}

/** The App's slug (`GET /app` with the App's JWT), asked once per client; throws GitHub's RequestError when GitHub refuses. */
export async function appSlug(app: GitHubApp): Promise<string> {
  const found = client(app);
  if (found.slug === undefined) {
    const { data } = await found.api('GET /app', { request: { hook: found.auth.hook } });
    if (!data?.slug) throw new Error('GitHub answered GET /app without the App\'s slug');
    found.slug = data.slug;
  }
  return found.slug;
}
