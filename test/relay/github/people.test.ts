/**
 * relay/github/people.ts against the fake GitHub: a failed installation-token lookup forgets the
 * repository's installation (as dispatch.ts does), so an App reinstalled under a new installation
 * id works at once, without an isolate restart.
 */
import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { appSetup } from '../../../relay/github/app-config.ts';
import { GitHubUnavailable, repoPermission } from '../../../relay/github/people.ts';
import { githubLog } from '../park.ts';
import { newLogin, newRepository, scriptPeople } from '../auth/signin.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('an installation token GitHub refuses', () => {
  it('makes the relay look the installation up again: a reinstalled App works without a restart', async () => {
    const app = appSetup(env).app;
    if (!app) throw new Error('the relay tests configure a GitHub App');
    const [repository, login] = [newRepository(), newLogin('w')];
    await scriptPeople({ permissions: { [repository]: { [login]: 'write' } } });

    // The installation is found, but its token is refused: the App was uninstalled meanwhile.
    const fetch = globalThis.fetch;
    vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      const url = new Request(input, init).url;
      if (/\/app\/installations\/\d+\/access_tokens$/.test(url)) {
        return Promise.resolve(Response.json({ message: 'Not Found' }, { status: 404 }));
      }
      return fetch(input, init);
    });
    const refused = await repoPermission(app, repository, login).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GitHubUnavailable);
    expect((refused as GitHubUnavailable).status).toBe(404);
    vi.restoreAllMocks();

    // Installed again, under a new installation id.
    await reinstall(repository, 800_000 + Math.floor(Math.random() * 100_000_000));
    expect((await repoPermission(app, repository, login)).permission).toBe('write');
    expect((await githubLog(repository)).lookups).toBe(2);
  });
});

/** Gives the fake's repository a new installation id (the fake takes any of its fields in a script). */
async function reinstall(repository: string, installationId: number): Promise<void> {
  const res = await fetch('https://api.github.test/_control/script', { method: 'POST', body: JSON.stringify({ repository, installationId }) });
  expect(res.status).toBe(200);
}
