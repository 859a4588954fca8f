/**
 * The fake's routes for who people are and what the App's rule decides: the OAuth web flow
 * (oauth.ts; its pages on the web origin take forms), `GET /user`, team membership and
 * collaborator permission (people.ts), and the protection rule's review (protection.ts).
 * GitHub's REST API takes requests without an Accept header; these routes do too.
 */
import type { OAuthServer } from './oauth.ts';
import { MEMBERSHIP_PATH, PERMISSION_PATH } from './people.ts';
import type { Directory } from './people.ts';
import { PROTECTION_PATH } from './protection.ts';
import type { ProtectionRules } from './protection.ts';
import { checkHeaders } from './request-check.ts';
import { Refusal } from './types.ts';
import type { Answer, RecordedRequest } from './types.ts';

export interface IdentityRoutes {
  oauth: OAuthServer;
  people: Directory;
  protection: ProtectionRules;
  base: () => string;
}

/** The answer of one of these routes; null for a path of another. */
export function identityRoute(routes: IdentityRoutes, method: string, url: URL, record: RecordedRequest, form: URLSearchParams): Answer | null {
  const { authorization, accept } = record.headers;
  if (url.pathname === '/login/oauth/authorize') {
    if (method === 'GET') return routes.oauth.authorize('GET', url.searchParams);
    if (method === 'POST') return routes.oauth.authorize('POST', form);
    throw new Refusal(404, 'Not Found');
  }
  if (url.pathname === '/login/oauth/access_token') {
    if (method !== 'POST') throw new Refusal(404, 'Not Found');
    return routes.oauth.accessToken(form, authorization, accept);
  }
  const membership = MEMBERSHIP_PATH.exec(url.pathname);
  const permission = PERMISSION_PATH.exec(url.pathname);
  const protection = PROTECTION_PATH.exec(url.pathname);
  if (url.pathname !== '/user' && !membership && !permission && !protection) return null;
  checkHeaders(record, null, true);
  if (url.pathname === '/user' && method === 'GET') return routes.oauth.user(authorization, routes.base());
  if (membership?.[1] && membership[2] && membership[3] && method === 'GET') {
    return routes.people.membership(membership[1], membership[2], membership[3], authorization, routes.base());
  }
  if (permission?.[1] && permission[2] && method === 'GET') return routes.people.permission(permission[1], permission[2], authorization, routes.base());
  if (protection?.[1] && protection[2] && method === 'POST') return routes.protection.review(protection[1], protection[2], record.body, authorization);
  throw new Refusal(404, 'Not Found');
}

/** A request body as the fields of a form: form-encoded, or a JSON object (GitHub's token endpoint takes both). */
export function formOf(raw: string, contentType: string): URLSearchParams {
  if (/^application\/x-www-form-urlencoded\b/i.test(contentType)) return new URLSearchParams(raw);
  if (!/^application\/json\b/i.test(contentType) || !raw) return new URLSearchParams();
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return new URLSearchParams();
    return new URLSearchParams(Object.entries(parsed).flatMap(([k, v]) => (typeof v === 'string' || typeof v === 'number' ? [[k, String(v)]] : [])));
  } catch {
    return new URLSearchParams();
  }
}
