/** The relay tests' fake of GitHub's deployment protection rule callback (issue 12): none yet. */

/** The answer, or null for a request this fake does not serve. */
export function githubProtection(_request: Request, _url: URL): Promise<Response | null> {
  return Promise.resolve(null);
}
