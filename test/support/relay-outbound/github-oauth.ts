/** The relay tests' fake of GitHub's OAuth web flow and user endpoints (issue 12): none yet. */

/** The answer, or null for a request this fake does not serve. */
export function githubOAuth(_request: Request, _url: URL): Promise<Response | null> {
  return Promise.resolve(null);
}
