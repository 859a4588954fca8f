/**
 * Who calls the action's routes (SPEC §6): the holder of the relay's RELAY_TOKEN secret, or
 * a GitHub Actions job of an allowed repository, by its OIDC token. Tokens are verified with
 * jose against the issuer's published keys; nothing here parses or checks a JWT by hand.
 * An ALLOWED_REPOSITORIES entry is a repository (`owner/repo`, `owner/*`) or a pattern of the
 * token's `sub` claim (`repo:acme/app:ref:refs/heads/main`), as cloud trust policies narrow.
 */
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { Principal } from '../run/principal.ts';
import { secretsEqual } from '../tokens/crypto.ts';
import type { RelayConfig } from './config.ts';
import { publicUrl } from './config.ts';
import { httpError } from './http.ts';
import { truncateCodePoints } from '../../shared/text.ts';

/**
 * Leeway on exp and nbf: the issuer's clock and the edge's differ by seconds, and a minute
 * is small beside the ~5 minutes a GitHub token lives (the action fetches one per request).
 */
const CLOCK_TOLERANCE_SECONDS = 60;

/** A compact JWS: three base64url parts. Anything else can only be meant as the relay token. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The claims the relay acts on. GitHub sends ids as decimal strings; a number is accepted too. */
const RepositoryClaims = z.object({
  repository: z.string().regex(/^[^/\s]+\/[^/\s]+$/),
  repository_id: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String),
  repository_owner: z.string().min(1),
  /** GitHub's `repo:<owner>/<repo>:<context>` (a repository may customize it); only `repo:` entries read it. */
  sub: z.string().max(2000).optional(),
});

type OidcSettings = { issuer: string; jwksUrl: URL; audience: string };

/**
 * The caller of an action route, else an HTTPException: 401 without a valid credential,
 * 403 for a repository ALLOWED_REPOSITORIES does not list, 503 when the relay is not
 * configured for any caller or cannot fetch the issuer's keys.
 */
export async function authenticate(
  config: RelayConfig,
  authorization: string | undefined,
  requestUrl: string,
): Promise<Principal> {
  const relayToken = config.relayToken;
  const allowed = config.allowedRepositories;
  if (!relayToken && allowed.length === 0) {
    throw httpError(503, 'misconfigured', 'the relay has neither a RELAY_TOKEN secret nor ALLOWED_REPOSITORIES set');
  }
  const credential = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (!credential) {
    throw unauthorized('a bearer credential is required: Authorization: Bearer <the relay token or a GitHub Actions OIDC token>');
  }
  if (relayToken && (await secretsEqual(credential, relayToken))) return { kind: 'token' };
  if (!JWT_SHAPE.test(credential)) {
    throw unauthorized(
      relayToken
        ? 'the bearer credential is neither the relay token nor a GitHub Actions OIDC token'
        : 'the bearer credential is not a GitHub Actions OIDC token (this relay has no RELAY_TOKEN)',
    );
  }
  if (allowed.length === 0) {
    throw unauthorized('OIDC is not enabled on this relay (ALLOWED_REPOSITORIES is empty): use the relay token');
  }
  const claims = await verifyOidcToken(credential, oidcSettings(config, requestUrl));
  if (!tokenAllowed(claims, allowed)) {
    const narrowed = repositoryAllowed(claims.repository, allowed)
      ? `: its token's sub ${shown(claims.sub ?? null)} matches no repo: entry for it`
      : '';
    throw httpError(403, 'forbidden', `repository ${claims.repository} is not allowed on this relay (ALLOWED_REPOSITORIES)${narrowed}`);
  }
  return {
    kind: 'oidc',
    repository: claims.repository,
    repositoryId: claims.repository_id,
    repositoryOwner: claims.repository_owner,
  };
}

/**
 * Whether `owner/repo` is named by an entry: itself, `owner/*`, or the repository part of a
 * `repo:` entry (the bound on where the relay may dispatch). No other wildcard for the owner:
 * `*` alone would admit all of GitHub.
 */
export function repositoryAllowed(repository: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => plainEntryAdmits(entry, repository) || subPattern(entry)?.repository.test(repository) === true);
}

/** Whether a job token is admitted: its repository by a plain entry, or its `sub` claim by a `repo:` entry. */
export function tokenAllowed(claims: { repository: string; sub?: string | undefined }, allowed: readonly string[]): boolean {
  const sub = claims.sub;
  return allowed.some((entry) =>
    entry.startsWith('repo:') ? sub !== undefined && subAllowed(sub, claims.repository, entry) : plainEntryAdmits(entry, claims.repository),
  );
}

function plainEntryAdmits(entry: string, repository: string): boolean {
  const name = repository.toLowerCase();
  const owner = name.slice(0, name.indexOf('/'));
  return entry.toLowerCase() === name || entry.toLowerCase() === `${owner}/*`;
}

/**
 * Whether `sub` matches the `repo:` pattern `entry`: part for part (`:` separates them, and the
 * counts must agree), `*` matching any run of characters within one part; owner and repository
 * in any case, every other part exactly. The sub must name the token's own repository.
 */
export function subAllowed(sub: string, repository: string, entry: string): boolean {
  const pattern = subPattern(entry);
  const [kind, named, ...rest] = sub.split(':');
  if (!pattern || kind !== 'repo' || named === undefined || named.toLowerCase() !== repository.toLowerCase()) return false;
  return pattern.repository.test(named) && pattern.rest.length === rest.length && pattern.rest.every((part, i) => part.test(rest[i] ?? ''));
}

type SubPattern = { repository: RegExp; rest: RegExp[] };
const subPatterns = new Map<string, SubPattern | null>();

/** The compiled `repo:` entry; null for another entry or one whose owner is not literal (a `*` owner would admit anyone). */
function subPattern(entry: string): SubPattern | null {
  let found = subPatterns.get(entry);
  if (found === undefined) {
    const [kind, named = '', ...rest] = entry.split(':');
    const owner = named.slice(0, named.indexOf('/'));
    const valid = kind === 'repo' && /^[A-Za-z0-9][A-Za-z0-9-]*\/[^/]+$/.test(named) && !owner.includes('*') && rest.length > 0;
    found = valid ? { repository: wildcard(named, 'i'), rest: rest.map((part) => wildcard(part, '')) } : null;
    // Entries come from one variable: a handful, compiled once per isolate.
    if (subPatterns.size < 1000) subPatterns.set(entry, found);
  }
  return found;
}

/** A part with `*` as any run of characters (never a `:`: parts are split first), everything else literal. */
function wildcard(part: string, flags: string): RegExp {
  const literal = part.split('*').map((piece) => piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literal.join('.*')}$`, flags);
}

function oidcSettings(config: RelayConfig, requestUrl: string): OidcSettings {
  const jwksUrl = config.oidcJwksUrl;
  if (!jwksUrl) throw httpError(503, 'misconfigured', 'the relay’s OIDC_JWKS_URL (or OIDC_ISSUER) is not a URL');
  // The action asks for its relay-url input, trailing slashes removed; either spelling is accepted below.
  return { issuer: config.oidcIssuer, jwksUrl, audience: config.oidcAudience ?? publicUrl(config, requestUrl) };
}

async function verifyOidcToken(token: string, settings: OidcSettings): Promise<z.output<typeof RepositoryClaims>> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, signingKeys(settings.jwksUrl), {
      algorithms: ['RS256'],
      issuer: settings.issuer,
      audience: [settings.audience, `${settings.audience}/`],
      requiredClaims: ['exp'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (error) {
    throw refusal(error, settings);
  }
  const claims = RepositoryClaims.safeParse(payload);
  if (!claims.success) {
    const claim = claims.error.issues[0]?.path.join('.') ?? 'repository';
    throw unauthorized(`the OIDC token has no valid ${claim} claim; is it a GitHub Actions token?`);
  }
  return claims.data;
}

/** The issuer's keys could not be had: the relay's problem, not the caller's (503, worth a retry). */
class KeysUnavailable extends Error {}

/**
 * One remote key set per URL for the isolate's life: jose keeps the keys (10 minutes) and
 * refetches on an unknown `kid` at most every 30 s, so a stream of forged tokens cannot make
 * the relay hammer the issuer.
 */
const keySets = new Map<string, JWTVerifyGetKey>();

function signingKeys(url: URL): JWTVerifyGetKey {
  let keys = keySets.get(url.href);
  if (!keys) {
    const remote = createRemoteJWKSet(url);
    keys = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        // No key for this token is the token's fault; anything else is the fetch's.
        if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
        console.error('OIDC keys unavailable', url.href, error instanceof Error ? error.message : String(error));
        throw new KeysUnavailable();
      }
    };
    keySets.set(url.href, keys);
  }
  return keys;
}

/** What failed, in the 401's words; the token itself is never echoed. */
function refusal(error: unknown, settings: OidcSettings): HTTPException {
  if (error instanceof KeysUnavailable) {
    return httpError(503, 'unavailable', `the relay could not fetch the OIDC signing keys from ${settings.jwksUrl.href}; try again shortly`);
  }
  if (error instanceof errors.JWTExpired) return unauthorized('the OIDC token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) return unauthorized(claimFailure(error, settings));
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return unauthorized('the OIDC token is not signed with RS256, the only algorithm the relay accepts');
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return unauthorized(`the OIDC token's signature does not verify with the keys of ${settings.issuer}`);
  }
  if (error instanceof errors.JOSEError) return unauthorized('the OIDC token is malformed');
  throw error;
}

function claimFailure(error: InstanceType<typeof errors.JWTClaimValidationFailed>, settings: OidcSettings): string {
  if (error.reason === 'missing') return `the OIDC token has no ${error.claim} claim`;
  switch (error.claim) {
    case 'aud':
      return `the OIDC token's audience ${shown(error.payload.aud)} is not this relay's: expected ${settings.audience} (the action's relay-url; OIDC_AUDIENCE sets another)`;
    case 'iss':
      return `the OIDC token was issued by ${shown(error.payload.iss)}, not by ${settings.issuer} (OIDC_ISSUER)`;
    case 'nbf':
      return 'the OIDC token is not valid yet (nbf is in the future)';
    default:
      return `the OIDC token's ${error.claim} claim is invalid`;
  }
}

/** A claim's value for a message, bounded. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? 'none';
  return truncateCodePoints(text, 201, '…');
}

function unauthorized(message: string): HTTPException {
  return httpError(401, 'unauthorized', message);
}
