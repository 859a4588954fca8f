/**
 * The fake's "Sign in as" page at `GET /login/oauth/authorize`: one button per known user, and
 * Cancel. Every value from the request is HTML-escaped; the form posts the authorize request's
 * parameters back unchanged, so the POST is checked as the GET was.
 */

/** Text from a request, safe inside HTML text and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page for an authorize request with `params`, offering to sign in as each of `logins`. */
export function signInPage(params: URLSearchParams, logins: string[], appName: string): string {
  const hidden = [...params]
    .filter(([name]) => name !== 'login' && name !== 'cancel')
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n      ');
  const buttons = logins.map((login) => `<button type="submit" name="login" value="${escapeHtml(login)}">Sign in as @${escapeHtml(login)}</button>`).join('\n      ');
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Authorize ${escapeHtml(appName)} · fake GitHub</title></head>
  <body>
    <h1>Authorize ${escapeHtml(appName)}</h1>
    <form method="post" action="/login/oauth/authorize">
      ${hidden}
      ${buttons}
      <button type="submit" name="cancel" value="1">Cancel</button>
    </form>
  </body>
</html>
`;
}

/** GitHub's plain error page (an unknown client id, a malformed request). */
export function errorPage(status: number, message: string): { status: number; text: string; headers: Record<string, string> } {
  return {
    status,
    text: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status}</title></head><body><p>${escapeHtml(message)}</p></body></html>\n`,
    headers: { 'content-type': 'text/html; charset=utf-8' },
  };
}
