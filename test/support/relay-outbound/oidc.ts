/**
 * The relay tests' GitHub OIDC issuer: a key pair made for each run. Its JWKS reaches the
 * Worker through miniflare's outbound service (index.ts); the private key reaches the tests
 * as a binding, so they sign tokens in workerd.
 */
import { createSigningKey } from '../oidc-issuer.ts';

export const RELAY_TEST_ISSUER = 'https://token.actions.test';
export const relayTestKey = await createSigningKey();
/** JWKS fetches per path, for the tests of the relay's key cache (`GET <issuer>/jwks-fetches?path=`). */
const relayJwksFetches = new Map<string, number>();

/** The issuer's answer, or null for a request to another host. */
export function oidcIssuer(url: URL): Response | null {
  if (url.origin !== RELAY_TEST_ISSUER) return null;
  if (url.pathname.endsWith('/jwks')) {
    relayJwksFetches.set(url.pathname, (relayJwksFetches.get(url.pathname) ?? 0) + 1);
    return Response.json(relayTestKey.jwks);
  }
  if (url.pathname === '/jwks-fetches') return Response.json(relayJwksFetches.get(url.searchParams.get('path') ?? '') ?? 0);
  return null;
}
