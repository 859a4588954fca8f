/**
 * The relay's configuration (relay/wrangler.jsonc vars and secrets), parsed once per
 * environment into one typed object. Every use of an env var goes through here.
 */
import { resumeRetrySeconds } from '../github/app-config.ts';
import { retentionMs } from '../run/retention.ts';
import type { Env } from './env.ts';
import { httpError } from './http.ts';

const DEFAULT_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

export type RelayConfig = {
  /** RELAY_TOKEN; '' when unset. */
  relayToken: string;
  /** CALLBACK_SECRET; null when unset (callback and approval routes answer 503). */
  callbackSecret: string | null;
  /** PUBLIC_URL without trailing slashes; null when unset (the origin called stands in). */
  publicUrl: string | null;
  /** ALLOWED_REPOSITORIES' entries, plain ones lower-cased, `repo:` patterns as written; empty: OIDC is off. */
  allowedRepositories: string[];
  /** GITHUB_WEBHOOK_SECRET; null when unset (POST /github/webhook answers 503). */
  webhookSecret: string | null;
  oidcIssuer: string;
  /** OIDC_JWKS_URL, else the issuer's `/.well-known/jwks`; null when not a URL. */
  oidcJwksUrl: URL | null;
  /** OIDC_AUDIENCE without trailing slashes; null when unset (the public URL stands in). */
  oidcAudience: string | null;
  /** RETENTION_DAYS in milliseconds; null when it is not a valid number of days. */
  retentionMs: number | null;
  /** What is wrong with PUBLIC_URL, RETENTION_DAYS or RESUME_RETRY_SECONDS, for a 503; null when nothing is. */
  problem: string | null;
};

/** env objects are the same for every request of an isolate: parse each once. */
const parsed = new WeakMap<Env, RelayConfig>();

/** The configuration of `env`. */
export function relayConfig(env: Env): RelayConfig {
  let config = parsed.get(env);
  if (!config) {
    config = parse(env);
    parsed.set(env, config);
  }
  return config;
}

function parse(env: Env): RelayConfig {
  const issuer = withoutTrailingSlash(env.OIDC_ISSUER || DEFAULT_OIDC_ISSUER);
  const publicUrl = env.PUBLIC_URL ? withoutTrailingSlash(env.PUBLIC_URL) : null;
  const retention = retentionMs(env.RETENTION_DAYS);
  let problem: string | null = null;
  if (publicUrl !== null && URL.parse(publicUrl)?.protocol.match(/^https?:$/) == null) {
    problem = 'the relay’s PUBLIC_URL is not an http(s) URL';
  } else if (retention === null) {
    problem = 'the relay’s RETENTION_DAYS is not a number of days above 0 (at most 3650)';
  } else if (resumeRetrySeconds(env.RESUME_RETRY_SECONDS) === null) {
    problem = 'the relay’s RESUME_RETRY_SECONDS is not a whole number of seconds from 1 to 2592000 (30 days)';
  }
  return {
    relayToken: env.RELAY_TOKEN ?? '',
    callbackSecret: env.CALLBACK_SECRET || null,
    publicUrl,
    allowedRepositories: allowedRepositories(env.ALLOWED_REPOSITORIES),
    webhookSecret: env.GITHUB_WEBHOOK_SECRET || null,
    oidcIssuer: issuer,
    oidcJwksUrl: URL.parse(env.OIDC_JWKS_URL || `${issuer}/.well-known/jwks`),
    oidcAudience: env.OIDC_AUDIENCE ? withoutTrailingSlash(env.OIDC_AUDIENCE) : null,
    retentionMs: retention,
    problem,
  };
}

/** The config of a request that needs it sound: 503 `misconfigured` naming what is wrong. */
export function soundConfig(env: Env): RelayConfig {
  const config = relayConfig(env);
  if (config.problem !== null) throw httpError(503, 'misconfigured', config.problem);
  return config;
}

/**
 * ALLOWED_REPOSITORIES' entries; empty when unset. Plain entries are lower-cased (GitHub's names
 * are case-insensitive); a `repo:` pattern keeps its case, since refs are case-sensitive
 * (relay/worker/auth.ts compares its owner and repository without case).
 */
function allowedRepositories(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\s,]+/)
    .map((entry) => (entry.startsWith('repo:') ? entry : entry.toLowerCase()))
    .filter((entry) => entry !== '');
}

/** CALLBACK_SECRET, which every callback and approval token needs; 503 `misconfigured` when unset. */
export function callbackSecret(config: RelayConfig): string {
  if (config.callbackSecret === null) throw httpError(503, 'misconfigured', 'the relay has no CALLBACK_SECRET secret set');
  return config.callbackSecret;
}

/**
 * The relay's public URL, the base of callback and approval links and the default OIDC
 * audience: PUBLIC_URL when set (the relay behind a custom domain or proxy), else the origin called.
 */
export function publicUrl(config: RelayConfig, requestUrl: string): string {
  return config.publicUrl ?? new URL(requestUrl).origin;
}

/** The origin a genuine approval form posts from: the public URL's. */
export function publicOrigin(config: RelayConfig, requestUrl: string): string {
  return new URL(publicUrl(config, requestUrl)).origin;
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
