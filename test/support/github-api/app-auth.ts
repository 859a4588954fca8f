/**
 * The GitHub App's side of the fake: App JWTs checked as GitHub checks them (RS256 signed with
 * the App's key, `iss` = the App id, `exp` at most 10 minutes after `iat`, not expired, `iat` not
 * more than 60 s ahead), the installation of a repository, and installation tokens that expire
 * after an hour and open only the repositories of their installation.
 */
import { randomBytes } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { errors, jwtVerify } from 'jose';
import { APP_PERMISSIONS, DEFAULT_APP_SLUG } from './app-types.ts';
import type { FakeAppOptions } from './app-types.ts';
import { Refusal } from './types.ts';
import type { Answer } from './types.ts';

/** GitHub's installation tokens live one hour. */
const TOKEN_SECONDS = 60 * 60;
const FIRST_INSTALLATION = 4_200_000;

export interface AppAuthority {
  /** The App's slug. */
  slug: string;
  /** `GET /app` with an App JWT: the App itself. */
  app(authorization: string): Promise<Answer>;
  /** `GET /repos/{owner}/{repo}/installation` with an App JWT. */
  installation(repository: string, authorization: string): Promise<Answer>;
  /** `POST /app/installations/{id}/access_tokens` with an App JWT: a new installation token. */
  accessToken(installationId: number, authorization: string): Promise<Answer>;
  /** Throws GitHub's refusal unless `authorization` carries a live installation token for `repository`. */
  checkToken(authorization: string, repository: string): void;
  /** Throws GitHub's refusal unless `authorization` carries a live installation token of an installation on `org`. */
  checkOrgToken(authorization: string, org: string): void;
  /** Throws GitHub's 403 unless the App was granted `permission` (at least `level`). */
  checkPermission(permission: string, level: 'read' | 'write'): void;
  /** The installation of `repository`, null when the App is not installed there. */
  installationOf(repository: string): number | null;
}

/** The App's authority; `now()` is the fake's clock in ms. */
export function appAuthority(app: FakeAppOptions, now: () => number): AppAuthority {
  const key = createPublicKey(app.publicKey);
  const repositories = (app.repositories ?? ['acme/potato-facts']).map((r) => r.toLowerCase());
  const tokens = new Map<string, { expiresAt: number; installationId: number }>();
  const installationOf = (repository: string): number | null => {
    const index = repositories.indexOf(repository.toLowerCase());
    return index < 0 ? null : FIRST_INSTALLATION + index;
  };
  const permissions = app.permissions ?? APP_PERMISSIONS;
  const liveToken = (authorization: string): { expiresAt: number; installationId: number } => {
    if (!authorization) throw new Refusal(401, 'Requires authentication');
    const token = /^(?:Bearer|token)\s+(\S+)$/i.exec(authorization)?.[1] ?? '';
    const known = tokens.get(token);
    if (!known || known.expiresAt <= now()) throw new Refusal(401, 'Bad credentials');
    return known;
  };
  const verify = async (authorization: string): Promise<void> => {
    const jwt = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    if (!jwt) throw new Refusal(401, 'A JSON web token could not be decoded');
    await checkJwt(jwt, key, app.id, now());
  };
  const slug = app.slug ?? DEFAULT_APP_SLUG;
  return {
    slug,
    async app(authorization) {
      await verify(authorization);
      const owner = { login: 'acme', id: 5_000_000, type: 'Organization' };
      return { status: 200, body: { id: Number(app.id), slug, client_id: `Iv1.${app.id}`, node_id: `A_${app.id}`, owner, name: slug, permissions, events: [] } };
    },
    async installation(repository, authorization) {
      await verify(authorization);
      const id = installationOf(repository);
      if (id === null) throw new Refusal(404, 'Not Found');
      const [owner = ''] = repository.split('/');
      return {
        status: 200,
        body: { id, app_id: Number(app.id), account: { login: owner, type: 'Organization' }, repository_selection: 'selected', permissions, access_tokens_url: `/app/installations/${id}/access_tokens` },
      };
    },
    async accessToken(installationId, authorization) {
      await verify(authorization);
      if (!repositories.some((r) => installationOf(r) === installationId)) throw new Refusal(404, 'Not Found');
      const token = `ghs_${randomBytes(18).toString('base64url')}`;
      const expiresAt = now() + TOKEN_SECONDS * 1000;
      tokens.set(token, { expiresAt, installationId });
      const expires = new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
      return { status: 201, body: { token, expires_at: expires, permissions, repository_selection: 'selected' } };
    },
    checkToken(authorization, repository) {
      const known = liveToken(authorization);
      // A token of another installation does not see the repository: GitHub answers 404, not 403.
      if (installationOf(repository) !== known.installationId) throw new Refusal(404, 'Not Found');
    },
    checkOrgToken(authorization, org) {
      const known = liveToken(authorization);
      const owners = repositories.filter((r) => installationOf(r) === known.installationId).map((r) => r.split('/')[0]);
      if (!owners.includes(org.toLowerCase())) throw new Refusal(403, 'Resource not accessible by integration');
    },
    checkPermission(permission, level) {
      const granted = permissions[permission];
      if (!granted || (level === 'write' && granted !== 'write')) throw new Refusal(403, 'Resource not accessible by integration');
    },
    installationOf,
  };
}

/** GitHub's checks of an App JWT, with its messages. */
async function checkJwt(jwt: string, key: ReturnType<typeof createPublicKey>, appId: string, nowMs: number): Promise<void> {
  let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
  try {
    ({ payload: claims } = await jwtVerify(jwt, key, { algorithms: ['RS256'], currentDate: new Date(nowMs) }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw new Refusal(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires");
    throw new Refusal(401, 'A JSON web token could not be decoded');
  }
  const now = Math.floor(nowMs / 1000);
  if (typeof claims.iat !== 'number' || claims.iat > now + 60) throw new Refusal(401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued");
  if (typeof claims.exp !== 'number' || claims.exp > claims.iat + 600) throw new Refusal(401, "Expiration time' claim ('exp') is too far in the future");
  if (String(claims.iss) !== appId) throw new Refusal(401, 'A JSON web token could not be decoded');
}
