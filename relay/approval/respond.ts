/**
 * The HTML answers of the approval pages and the sign-in routes: every one carries the headers
 * below, whatever its status.
 */

export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  // The URL is a capability and must not leak through Referer. Not `no-referrer`: under that
  // policy browsers send `Origin: null` with the page's own form POST (Fetch §3.1.2, checked in
  // Chromium), and the Origin check of the routes could not tell it from a forged one.
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'x-robots-tag': 'noindex',
};

/** A page answer: `html` ('' for none) with PAGE_HEADERS and `headers`; `cookies` each as its own Set-Cookie. */
export function page(status: number, html: string, headers: Record<string, string> = {}, cookies: string[] = []): Response {
  const all = new Headers({ ...PAGE_HEADERS, ...headers });
  for (const cookie of cookies) all.append('set-cookie', cookie);
  return new Response(html === '' ? null : html, { status, headers: all });
}
