/**
 * GitHub Actions OIDC tokens for the relay tests, signed inside workerd with the key
 * vitest.config.ts made for this run; the relay fetches its public half from the test
 * issuer through miniflare's outbound service.
 */
import { env } from 'cloudflare:test';
import { importJWK, SignJWT } from 'jose';
import type { CryptoKey, JWTHeaderParameters, JWTPayload } from 'jose';
import { BASE } from './helpers.ts';

export const ISSUER = 'https://token.actions.test';

export type Repo = { repository: string; repositoryId: string };

/** Listed in the test ALLOWED_REPOSITORIES (vitest.config.ts) by name. */
export const REPO_A: Repo = { repository: 'acme/potato-facts', repositoryId: '1001' };
export const REPO_B: Repo = { repository: 'acme/other', repositoryId: '1002' };
/** Admitted by `wild-org/*`. */
export const REPO_WILD: Repo = { repository: 'wild-org/anything', repositoryId: '2001' };
/** Listed as `Octo-Org/Widgets`. */
export const REPO_CASED: Repo = { repository: 'octo-org/WIDGETS', repositoryId: '3001' };
/** Not listed. */
export const REPO_EVIL: Repo = { repository: 'evil/app', repositoryId: '6666' };

let testKey: Promise<CryptoKey> | undefined;

function signingKey(): Promise<CryptoKey> {
  testKey ??= importJWK(env.OIDC_TEST_PRIVATE_JWK, 'RS256') as Promise<CryptoKey>;
  return testKey;
}

/** The claims of a job token of `repo` for this relay, valid for 5 minutes; `overrides` last. */
export function claimsOf(repo: Repo, overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    aud: BASE,
    sub: `repo:${repo.repository}:ref:refs/heads/main`,
    repository: repo.repository,
    repository_id: repo.repositoryId,
    repository_owner: repo.repository.slice(0, repo.repository.indexOf('/')),
    run_id: '42',
    run_attempt: '1',
    nbf: now - 5,
    iat: now,
    exp: now + 300,
    ...overrides,
  };
}

/** `claims` signed RS256 with `key` (default: the test issuer's) under `header`'s kid (default: the issuer key's). */
export async function sign(
  claims: JWTPayload,
  options: { key?: CryptoKey; header?: Partial<JWTHeaderParameters> } = {},
): Promise<string> {
  const header: JWTHeaderParameters = { alg: 'RS256', kid: env.OIDC_TEST_PRIVATE_JWK.kid, typ: 'JWT', ...options.header };
  return new SignJWT(claims).setProtectedHeader(header).sign(options.key ?? (await signingKey()));
}

/** A valid job token of `repo`; `overrides` change its claims. */
export function oidcToken(repo: Repo, overrides: JWTPayload = {}): Promise<string> {
  return sign(claimsOf(repo, overrides));
}

/** Request headers carrying a job token of `repo`, as the action sends them. */
export async function oidcHeaders(repo: Repo, overrides: JWTPayload = {}): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await oidcToken(repo, overrides)}`, 'content-type': 'application/json' };
}
