/**
 * ALLOWED_REPOSITORIES entries that narrow by the token's `sub` claim (relay/worker/auth.ts):
 * `repo:acme/app:ref:refs/heads/main`, `repo:acme/app:environment:prod`, wildcards within a part.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../../../relay/worker/app.ts';
import { repositoryAllowed, subAllowed, tokenAllowed } from '../../../relay/worker/auth.ts';
import { relayConfig } from '../../../relay/worker/config.ts';
import { BASE, expectError, gateRequest } from '../helpers.ts';
import { oidcToken } from '../oidc.ts';

const APP = { repository: 'acme/app', repositoryId: '5001' };
const main = 'repo:acme/app:ref:refs/heads/main';
const prod = 'repo:acme/app:environment:prod';

/** The status of a registration by a token of `repository` with `sub`, under ALLOWED_REPOSITORIES `allowed`. */
async function statusWith(allowed: string, sub: string, repository = APP.repository): Promise<number> {
  const token = await oidcToken({ repository, repositoryId: '5001' }, { sub });
  const init = { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(gateRequest()) };
  const res = await app.request(`${BASE}/v1/gates`, init, { ...env, ALLOWED_REPOSITORIES: allowed });
  return res.status;
}

describe('a repo: entry of ALLOWED_REPOSITORIES', () => {
  it('for a branch admits only that branch’s tokens', async () => {
    expect(await statusWith(main, main)).toBe(201);
    expect(await statusWith(main, 'repo:acme/app:ref:refs/heads/feature')).toBe(403);
    expect(await statusWith(main, 'repo:acme/app:ref:refs/heads/main-2')).toBe(403);
    expect(await statusWith(main, 'repo:acme/app:pull_request')).toBe(403);
    expect(await statusWith(main, prod)).toBe(403);
  });

  it('for an environment admits only that environment’s tokens', async () => {
    expect(await statusWith(prod, prod)).toBe(201);
    expect(await statusWith(prod, 'repo:acme/app:environment:staging')).toBe(403);
    expect(await statusWith(prod, main)).toBe(403);
  });

  it('refuses 403 saying the sub matched no entry, naming the sub', async () => {
    const token = await oidcToken(APP, { sub: 'repo:acme/app:ref:refs/heads/feature' });
    const init = { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(gateRequest()) };
    const res = await app.request(`${BASE}/v1/gates`, init, { ...env, ALLOWED_REPOSITORIES: main });
    const body = await expectError(res, 403, 'forbidden');
    expect(body.message).toContain('acme/app');
    expect(body.message).toContain('refs/heads/feature');
    expect(body.message).not.toContain(token);
  });

  it('takes wildcards within one part: any repository of the owner, any tag', async () => {
    const tags = 'repo:acme/*:ref:refs/tags/*';
    expect(await statusWith(tags, 'repo:acme/app:ref:refs/tags/v1.2.3')).toBe(201);
    expect(await statusWith(tags, 'repo:acme/web:ref:refs/tags/v1', 'acme/web')).toBe(201);
    expect(await statusWith(tags, 'repo:acme/app:ref:refs/heads/main')).toBe(403);
    expect(await statusWith(tags, 'repo:other/app:ref:refs/tags/v1', 'other/app')).toBe(403);
    // `*` never spans parts: `environment:*` is one more part, not any context.
    expect(await statusWith('repo:acme/app:*', main)).toBe(403);
    expect(await statusWith('repo:acme/app:*', 'repo:acme/app:pull_request')).toBe(201);
    expect(await statusWith('repo:acme/app:environment:*', prod)).toBe(201);
  });

  it('compares owner and repository in any case, the ref exactly', async () => {
    expect(await statusWith('repo:ACME/App:ref:refs/heads/main', 'repo:acme/APP:ref:refs/heads/main', 'Acme/app')).toBe(201);
    expect(await statusWith('repo:acme/app:ref:refs/heads/Main', main)).toBe(403);
    expect(await statusWith('repo:acme/app:ref:refs/heads/Main', 'repo:acme/app:ref:refs/heads/Main')).toBe(201);
  });

  it('admits no token whose sub names another repository than its repository claim', async () => {
    expect(await statusWith(main, main, 'acme/other')).toBe(403);
    expect(subAllowed(main, 'acme/other', main)).toBe(false);
  });

  it('admits nothing with a wildcard owner or nothing after the repository', async () => {
    expect(await statusWith('repo:*/app:ref:refs/heads/main', main)).toBe(403);
    expect(await statusWith('repo:*:ref:refs/heads/main', main)).toBe(403);
    expect(await statusWith('repo:acme/app', main)).toBe(403);
    expect(await statusWith('repo:acme/app', 'repo:acme/app')).toBe(403);
  });

  it('needs a sub claim; a plain entry beside it still admits every token of its repository', async () => {
    expect(tokenAllowed({ repository: 'acme/app' }, [main])).toBe(false);
    expect(await statusWith(`${main} acme/app`, 'repo:acme/app:ref:refs/heads/feature')).toBe(201);
    expect(await statusWith(`${main}, wild-org/*`, 'repo:wild-org/x:ref:refs/heads/dev', 'wild-org/x')).toBe(201);
  });

  it('names its repository for where the relay may dispatch, plain entries as before', () => {
    expect(repositoryAllowed('acme/app', [main])).toBe(true);
    expect(repositoryAllowed('ACME/App', ['repo:acme/*:ref:refs/tags/*'])).toBe(true);
    expect(repositoryAllowed('acme/other', [main])).toBe(false);
    expect(repositoryAllowed('acme/app', ['acme/app'])).toBe(true);
    expect(repositoryAllowed('acme/app', ['*'])).toBe(false);
  });

  it('keeps the case of its ref and environment in the configuration; plain entries are lower-cased', () => {
    const listed = 'Acme/App repo:acme/app:ref:refs/heads/Main,repo:acme/app:environment:Prod';
    expect(relayConfig({ ...env, ALLOWED_REPOSITORIES: listed }).allowedRepositories).toEqual([
      'acme/app',
      'repo:acme/app:ref:refs/heads/Main',
      'repo:acme/app:environment:Prod',
    ]);
  });
});
