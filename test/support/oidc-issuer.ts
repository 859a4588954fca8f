/**
 * A stand-in for GitHub's OIDC token service, for tests: an HTTP server on 127.0.0.1 that
 * publishes its signing key at /.well-known/jwks and answers the runner's ID-token endpoint
 * as a runner provides it. @actions/core's getIDToken calls
 * `${ACTIONS_ID_TOKEN_REQUEST_URL}&audience=<encoded>` with `Authorization: Bearer
 * ${ACTIONS_ID_TOKEN_REQUEST_TOKEN}` and reads `value` of the JSON answer. Tokens are RS256
 * JWTs minted with jose, carrying the claims GitHub puts in a job's token.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';

/** The repository a token speaks for. */
export interface OidcRepository {
  /** `owner/name`. */
  repository: string;
  /** GitHub's repository id, as the decimal string GitHub sends. */
  repositoryId: string;
  /** The owner's id; default '1' (the relay does not read it). */
  repositoryOwnerId?: string;
}

/** An RS256 key pair and its kid: signs tokens, and publishes its public half as a JWKS. */
export interface OidcSigningKey {
  kid: string;
  privateKey: CryptoKey;
  /** The private key as a JWK with kid and alg, for code that signs elsewhere (the relay tests sign inside workerd). */
  privateJwk: JWK;
  /** `{keys: [the public JWK]}`, as GitHub serves it. */
  jwks: { keys: JWK[] };
}

/** A fresh RS256 signing key. */
export async function createSigningKey(kid = `hookgate-test-${randomUUID()}`): Promise<OidcSigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: 'RS256' };
  return { kid, privateKey, privateJwk, jwks: { keys: [publicJwk] } };
}

/** The claims of a GitHub Actions job token of `repo` (push to main, first attempt), valid for 5 minutes; `overrides` last. */
export function githubClaims(issuer: string, audience: string, repo: OidcRepository, overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  const owner = repo.repository.slice(0, repo.repository.indexOf('/'));
  return {
    jti: randomUUID(),
    sub: `repo:${repo.repository}:ref:refs/heads/main`,
    aud: audience,
    ref: 'refs/heads/main',
    ref_type: 'branch',
    sha: '0123456789abcdef0123456789abcdef01234567',
    repository: repo.repository,
    repository_id: repo.repositoryId,
    repository_owner: owner,
    repository_owner_id: repo.repositoryOwnerId ?? '1',
    repository_visibility: 'private',
    run_id: '42',
    run_number: '7',
    run_attempt: '1',
    actor: 'octocat',
    actor_id: '583231',
    workflow: 'deploy',
    event_name: 'push',
    job_workflow_ref: `${repo.repository}/.github/workflows/deploy.yml@refs/heads/main`,
    runner_environment: 'github-hosted',
    iss: issuer,
    nbf: now - 5,
    iat: now,
    exp: now + 300,
    ...overrides,
  };
}

/** Signs `claims` exactly as given, RS256 with the key's kid. */
export function signClaims(key: OidcSigningKey, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
}

/** One request to the runner's token endpoint, as the issuer saw it. */
export interface TokenRequest {
  audience: string | null;
  /** False when the request token was wrong (answered 401, nothing minted). */
  authorized: boolean;
}

export interface OidcIssuer {
  /** `http://127.0.0.1:<port>`: the tokens' `iss`. */
  url: string;
  jwksUrl: string;
  /** The runner's ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string;
  key: OidcSigningKey;
  /** Requests to the token endpoint, oldest first. */
  tokenRequests: TokenRequest[];
  /** Requests for the JWKS (the relay's key fetches). */
  jwksRequests: number;
  /** Tokens minted from now on speak for `repo`. */
  actAs(repo: OidcRepository): void;
  /** A token for the current repository, audience `https://github.com/<owner>` unless `claims.aud` says; `claims` last. */
  mint(claims?: JWTPayload): Promise<string>;
  /** The variables a runner gives a job with `permissions: id-token: write`. */
  env(): { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  /** The relay's vars for this issuer; pass `allowedRepositories` to get ALLOWED_REPOSITORIES too. */
  relayVars(allowedRepositories?: string): Record<string, string>;
  close(): Promise<void>;
}

/** Starts the issuer on a free port of 127.0.0.1, speaking for `repo` (default `acme/potato-facts`, id 1001). */
export async function startOidcIssuer(
  repo: OidcRepository = { repository: 'acme/potato-facts', repositoryId: '1001' },
): Promise<OidcIssuer> {
  const key = await createSigningKey();
  const requestToken = randomBytes(24).toString('base64url');
  let current = repo;
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => json(response, 500, { message: String(error) }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the OIDC issuer has no port');
  const url = `http://127.0.0.1:${address.port}`;

  const issuer: OidcIssuer = {
    url,
    jwksUrl: `${url}/.well-known/jwks`,
    requestToken,
    key,
    tokenRequests: [],
    jwksRequests: 0,
    actAs(next) {
      current = next;
    },
    mint(claims = {}) {
      const owner = current.repository.slice(0, current.repository.indexOf('/'));
      return signClaims(key, githubClaims(url, `https://github.com/${owner}`, current, claims));
    },
    env: () => ({ ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken }),
    relayVars: (allowedRepositories) => ({
      OIDC_ISSUER: url,
      OIDC_JWKS_URL: issuer.jwksUrl,
      ...(allowedRepositories === undefined ? {} : { ALLOWED_REPOSITORIES: allowedRepositories }),
    }),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', url);
    if (request.method === 'GET' && path.pathname === '/.well-known/jwks') {
      issuer.jwksRequests += 1;
      return json(response, 200, key.jwks);
    }
    if (request.method === 'GET' && path.pathname === '/token') {
      const audience = path.searchParams.get('audience');
      const authorized = request.headers.authorization === `Bearer ${requestToken}`;
      issuer.tokenRequests.push({ audience, authorized });
      if (!authorized) return json(response, 401, { message: 'bad request token' });
      const claims = audience === null ? {} : { aud: audience };
      return json(response, 200, { count: 1, value: await issuer.mint(claims) });
    }
    json(response, 404, { message: `no ${request.method} ${path.pathname} here` });
  }
  return issuer;
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
