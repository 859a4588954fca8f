/**
 * GitHub deployments against a local fake of GitHub's REST endpoints
 * (test/support/github-api.ts) that checks every request as GitHub would:
 * every test ends with no request GitHub would have refused.
 */
import { readdir, readFile, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildOptions } from '../../../build.ts';
import {
  PERMISSION_WARNING,
  createGitHubDeployments,
  finalStatus,
  markAbandoned,
  noGitHubDeployments,
  truncate,
} from '../../../action/clients/github-deployments.ts';
import type { GitHubDeploymentsOptions } from '../../../action/clients/github-deployments.ts';
import type { Log } from '../../../action/output/log.ts';
import type { TargetOutcome } from '../../../action/engine/report.ts';
import { startFakeGitHub } from '../../support/github-api.ts';
import type { FakeGitHub, RecordedRequest } from '../../support/github-api.ts';
import { ROOT } from '../../../scripts/local-relay.ts';
import { within } from '../fakes.ts';

const TOKEN = 'ghs_16C7e42F292c6912E7710c838347Ae178B4a';
const SHA = 'c0ffee254729296a45a3885639ac7ef10b0a8e1f';
const RUN_URL = 'https://github.com/octo/app/actions/runs/42';

interface RecordingLog extends Log {
  lines: string[];
  warnings: string[];
}

function recordingLog(): RecordingLog {
  const lines: string[] = [];
  const warnings: string[] = [];
  return {
    lines,
    warnings,
    info: (m) => void lines.push(m),
    warning: (m) => void (lines.push(m), warnings.push(m)),
    error: (m) => void lines.push(m),
    notice: (m) => void lines.push(m),
    startGroup: (m) => void lines.push(m),
    endGroup: () => undefined,
  };
}

let github: FakeGitHub;
let log: RecordingLog;
let savedApiUrl: string | undefined;

beforeEach(async () => {
  github = await startFakeGitHub(TOKEN);
  log = recordingLog();
  savedApiUrl = process.env.GITHUB_API_URL;
  process.env.GITHUB_API_URL = github.url;
});

afterEach(async () => {
  if (savedApiUrl === undefined) delete process.env.GITHUB_API_URL;
  else process.env.GITHUB_API_URL = savedApiUrl;
  await github.close();
  expect(github.refusals(), 'requests GitHub would have refused').toEqual([]);
  expect(log.lines.join('\n')).not.toContain(TOKEN);
});

function options(fields: Partial<GitHubDeploymentsOptions> = {}): GitHubDeploymentsOptions {
  return {
    token: TOKEN,
    repository: 'octo/app',
    sha: SHA,
    ref: 'refs/heads/main',
    runUrl: RUN_URL,
    deploymentId: 'octo/app/42',
    attempt: 1,
    log,
    ...fields,
  };
}

/** `METHOD path?query`, as a line to compare. */
const line = (r: RecordedRequest): string => `${r.method} ${r.path}${Object.keys(r.query).length > 0 ? `?${new URLSearchParams(r.query).toString()}` : ''}`;
const statesOf = (id: number): string[] => github.deployments.find((d) => d.id === id)?.statuses.map((s) => s.state) ?? [];

describe('finalStatus', () => {
  it.each<[TargetOutcome, boolean, string, string, string]>([
    ['succeeded', false, 'staging deployed', 'success', 'staging deployed'],
    ['failed', false, 'staging not deployed: beforeDeployment webhook Tests failed', 'failure', 'staging not deployed: beforeDeployment webhook Tests failed'],
    ['rolled-back', false, 'staging rolled back: strategy webhook Canary failed', 'failure', 'staging rolled back: strategy webhook Canary failed'],
    ['rolled-back', false, 'strategy webhook Canary failed', 'failure', 'Rolled back: strategy webhook Canary failed'],
    ['failed', true, 'deploy command failed', 'error', 'Rollback failed, state unknown: deploy command failed'],
    ['failed', true, 'staging failed, and so did its rollback: deploy command failed', 'error', 'staging failed, and so did its rollback: deploy command failed'],
    ['canceled', false, 'staging canceled: the run was canceled', 'inactive', 'staging canceled: the run was canceled'],
  ])('%s (rollback failed: %s) → %s', (outcome, rollbackFailed, message, state, description) => {
    expect(finalStatus(outcome, message, { rollbackFailed })).toEqual({ state, description });
  });

  it('ignores rollbackFailed unless the target failed', () => {
    expect(finalStatus('succeeded', 'ok', { rollbackFailed: true }).state).toBe('success');
  });

  it('keeps descriptions within GitHub’s 140 characters, cut with an ellipsis', () => {
    const long = `staging not deployed: ${'x'.repeat(300)}`;
    const { description } = finalStatus('failed', long);
    expect([...description]).toHaveLength(140);
    expect(description.endsWith('x…')).toBe(true);
    expect(truncate('a'.repeat(140))).toBe('a'.repeat(140));
  });

  it('counts characters as GitHub does (code points) and folds line breaks', () => {
    const emoji = '🚀'.repeat(200);
    expect([...truncate(emoji)]).toHaveLength(140);
    expect(truncate(`first line\n\n  second   line `)).toBe('first line second line');
  });
});

describe('GitHub deployments of a run', () => {
  it('creates the deployment, sets in_progress, then success: exact requests and bodies', async () => {
    const deployments = createGitHubDeployments(options());
    await deployments.start('staging', 'hookgate: deploying staging');
    await deployments.finish('staging', 'succeeded', 'staging deployed');

    expect(github.requests.map(line)).toEqual([
      'POST /repos/octo/app/deployments',
      'POST /repos/octo/app/deployments/1000/statuses',
      'POST /repos/octo/app/deployments/1000/statuses',
    ]);
    const [create, progress, done] = github.requests;
    expect(create?.body).toEqual({
      ref: SHA,
      environment: 'staging',
      task: 'deploy',
      auto_merge: false,
      required_contexts: [],
      description: 'hookgate: deploying staging',
      payload: { hookgate: { deploymentId: 'octo/app/42', attempt: 1, target: 'staging' } },
    });
    expect(progress?.body).toEqual({ state: 'in_progress', description: 'hookgate: deploying staging', log_url: RUN_URL });
    expect(done?.body).toEqual({ state: 'success', description: 'staging deployed', log_url: RUN_URL });
    for (const request of github.requests) {
      expect(request.headers.authorization).toBe(`token ${TOKEN}`);
      expect(request.headers.accept).toMatch(/^application\/vnd\.github(\.v3)?\+json$/);
      expect(request.headers.apiVersion).toBe('2022-11-28');
    }
    expect(github.deployments).toMatchObject([{ id: 1000, sha: SHA, ref: SHA, environment: 'staging', productionEnvironment: false }]);
    expect(statesOf(1000)).toEqual(['in_progress', 'success']);
    expect(log.warnings).toEqual([]);
  });

  it.each<[TargetOutcome, boolean, string]>([
    ['succeeded', false, 'success'],
    ['failed', false, 'failure'],
    ['rolled-back', false, 'failure'],
    ['failed', true, 'error'],
    ['canceled', false, 'inactive'],
  ])('a target that %s (rollback failed: %s) ends %s', async (outcome, rollbackFailed, state) => {
    const deployments = createGitHubDeployments(options());
    await deployments.start('production', 'hookgate: deploying production');
    await deployments.finish('production', outcome, `production ${outcome}`, { rollbackFailed });
    expect(github.deployments[0]?.statuses.map((s) => [s.state, s.logUrl])).toEqual([
      ['in_progress', RUN_URL],
      [state, RUN_URL],
    ]);
    expect(github.deployments[0]?.statuses[1]?.description).toBe(finalStatus(outcome, `production ${outcome}`, { rollbackFailed }).description);
  });

  it('sends descriptions GitHub accepts however long the message', async () => {
    const deployments = createGitHubDeployments(options());
    await deployments.start('staging', `hookgate: deploying staging ${'with a long story '.repeat(20)}`);
    await deployments.finish('staging', 'failed', `staging not deployed: beforeDeployment webhook Tests failed: ${'3 tests failed; '.repeat(20)}`);
    const descriptions = github.requests.map((r) => (r.body as { description: string }).description);
    for (const description of descriptions) {
      expect([...description]).toHaveLength(140);
      expect(description.endsWith('…')).toBe(true);
    }
    expect(statesOf(1000)).toEqual(['in_progress', 'failure']);
  });

  it('a target canceled before it started has no deployment: finish alone makes no call', async () => {
    const deployments = createGitHubDeployments(options());
    await deployments.finish('production', 'canceled', 'production canceled: staging failed');
    expect(github.requests).toEqual([]);
  });

  it('deploys each target as its own environment', async () => {
    const deployments = createGitHubDeployments(options());
    await Promise.all([deployments.start('staging', 'deploying staging'), deployments.start('qa', 'deploying qa')]);
    await Promise.all([deployments.finish('qa', 'succeeded', 'qa deployed'), deployments.finish('staging', 'failed', 'staging failed')]);
    const byEnvironment = Object.fromEntries(github.deployments.map((d) => [d.environment, d.statuses.map((s) => s.state)]));
    expect(byEnvironment).toEqual({ staging: ['in_progress', 'failure'], qa: ['in_progress', 'success'] });
  });

  it('deploys the ref when the commit is unknown, and finds it by ref', async () => {
    github.refs.set('refs/heads/main', SHA);
    const first = createGitHubDeployments(options({ sha: '', gateMode: true }));
    await first.start('staging', 'deploying');
    await createGitHubDeployments(options({ sha: '', gateMode: true })).finish('staging', 'succeeded', 'staging deployed');
    expect((github.requests[0]?.body as { ref: string }).ref).toBe('refs/heads/main');
    expect(github.requests[2]?.query).toMatchObject({ ref: 'refs/heads/main', environment: 'staging' });
    expect(statesOf(1000)).toEqual(['in_progress', 'success']);
  });

  it('makes no call without a token', async () => {
    for (const deployments of [noGitHubDeployments(), createGitHubDeployments(options({ token: '' }))]) {
      await deployments.start('staging', 'deploying');
      await deployments.finish('staging', 'succeeded', 'done');
    }
    expect(await markAbandoned({ ...options({ token: '' }), reason: 'killed' })).toBe(0);
    expect(github.requests).toEqual([]);
  });
});

describe('gate mode: beforeDeployment and afterDeployment are two processes', () => {
  it('finish finds the deployment the other step created, among others of the same commit', async () => {
    const before = createGitHubDeployments(options({ gateMode: true, attempt: 2 }));
    await before.start('production', 'hookgate: production passed its beforeDeployment gates');
    // Same commit and environment, newer, but not this run attempt's (or not hookgate's at all).
    await createGitHubDeployments(options({ attempt: 1 })).start('production', 'attempt 1');
    await createGitHubDeployments(options({ deploymentId: 'octo/app/43', attempt: 2 })).start('production', 'another run');
    github.seedDeployment({ sha: SHA, environment: 'production', payload: { deployer: 'someone else' }, states: ['in_progress'] });
    github.seedDeployment({ sha: SHA, environment: 'production', payload: JSON.stringify({ hookgate: { deploymentId: 'octo/app/42', attempt: 1, target: 'production' } }) });
    const ours = github.deployments[0]!.id;
    const before$ = github.requests.length;

    const after = createGitHubDeployments(options({ gateMode: true, attempt: 2 }));
    await after.finish('production', 'succeeded', 'production passed its afterDeployment gates: the target is deployed');

    expect(github.requests.slice(before$).map(line)).toEqual([
      `GET /repos/octo/app/deployments?sha=${SHA}&task=deploy&environment=production&per_page=100`,
      `POST /repos/octo/app/deployments/${ours}/statuses`,
    ]);
    expect(statesOf(ours)).toEqual(['in_progress', 'success']);
    for (const other of github.deployments.slice(1)) expect(other.statuses.map((s) => s.state)).not.toContain('success');
  });

  it('finish creates the deployment when no step did (only afterDeployment gates in the workflow)', async () => {
    await createGitHubDeployments(options({ gateMode: true })).finish('production', 'failed', 'production failed its afterDeployment gates');
    expect(github.requests.map(line)).toEqual([
      `GET /repos/octo/app/deployments?sha=${SHA}&task=deploy&environment=production&per_page=100`,
      'POST /repos/octo/app/deployments',
      'POST /repos/octo/app/deployments/1000/statuses',
    ]);
    expect(github.deployments[0]).toMatchObject({ environment: 'production', payload: { hookgate: { deploymentId: 'octo/app/42', attempt: 1, target: 'production' } } });
    expect(statesOf(1000)).toEqual(['failure']);
  });

  it('a canceled finish sets the other step’s deployment inactive, and creates none when there is none', async () => {
    await createGitHubDeployments(options({ gateMode: true })).start('staging', 'deploying');
    await createGitHubDeployments(options({ gateMode: true })).finish('staging', 'canceled', 'staging canceled: the run was canceled');
    await createGitHubDeployments(options({ gateMode: true })).finish('qa', 'canceled', 'qa canceled: the run was canceled');
    expect(statesOf(1000)).toEqual(['in_progress', 'inactive']);
    expect(github.deployments).toHaveLength(1);
    expect(github.requests.map(line).at(-1)).toBe(`GET /repos/octo/app/deployments?sha=${SHA}&task=deploy&environment=qa&per_page=100`);
  });
});

describe('markAbandoned (the post step after a killed main step)', () => {
  async function scene(): Promise<Record<string, number>> {
    const run = createGitHubDeployments(options({ attempt: 2 }));
    await run.start('staging', 'deploying staging');
    await run.start('production', 'deploying production');
    await run.start('qa', 'deploying qa');
    await run.finish('qa', 'succeeded', 'qa deployed');
    await createGitHubDeployments(options({ attempt: 1 })).start('staging', 'an earlier attempt');
    await createGitHubDeployments(options({ deploymentId: 'octo/app/43', attempt: 2 })).start('staging', 'another run');
    github.seedDeployment({ sha: SHA, environment: 'staging', states: ['in_progress'] });
    return Object.fromEntries(['staging', 'production', 'qa', 'earlier', 'other', 'foreign'].map((name, index) => [name, 1000 + index]));
  }

  it('sets every still-running deployment of this run attempt inactive, and leaves the rest', async () => {
    const ids = await scene();
    const before = github.requests.length;
    const marked = await markAbandoned({ ...options({ attempt: 2 }), reason: 'the main step was killed before it finished' });
    expect(marked).toBe(2);
    expect(statesOf(ids.staging!)).toEqual(['in_progress', 'inactive']);
    expect(statesOf(ids.production!)).toEqual(['in_progress', 'inactive']);
    expect(statesOf(ids.qa!)).toEqual(['in_progress', 'success']);
    for (const name of ['earlier', 'other', 'foreign']) expect(statesOf(ids[name]!)).toEqual(['in_progress']);
    const inactive = github.deployments.find((d) => d.id === ids.staging)?.statuses[1];
    expect(inactive).toMatchObject({ description: 'the main step was killed before it finished', logUrl: RUN_URL });
    const calls = github.requests.slice(before).map(line);
    expect(calls[0]).toBe(`GET /repos/octo/app/deployments?sha=${SHA}&task=deploy&per_page=100`);
    expect(calls.filter((c) => c.startsWith('GET') && c.includes('/statuses')).sort()).toEqual(
      [ids.staging, ids.production, ids.qa].map((id) => `GET /repos/octo/app/deployments/${id}/statuses?per_page=100`).sort(),
    );
  });

  it('with a target, only that target’s', async () => {
    const ids = await scene();
    expect(await markAbandoned({ ...options({ attempt: 2 }), target: 'production', reason: 'canceled' })).toBe(1);
    expect(statesOf(ids.production!)).toEqual(['in_progress', 'inactive']);
    expect(statesOf(ids.staging!)).toEqual(['in_progress']);
  });

  it('counts a deployment with no status yet as running', async () => {
    github.fail({ status: 500, method: 'POST', path: /\/statuses$/, times: 1 });
    await createGitHubDeployments(options()).start('staging', 'deploying');
    expect(statesOf(1000)).toEqual([]);
    expect(await markAbandoned({ ...options(), reason: 'killed' })).toBe(1);
    expect(statesOf(1000)).toEqual(['inactive']);
  });

  it('without permission: one warning, 0, no throw', async () => {
    await scene();
    github.fail({ status: 403 });
    const before = github.requests.length;
    expect(await markAbandoned({ ...options({ attempt: 2 }), reason: 'killed' })).toBe(0);
    expect(github.requests.length - before).toBe(1);
    expect(log.warnings).toEqual([expect.stringContaining(PERMISSION_WARNING)]);
  });
});

describe('when GitHub says no', () => {
  it('403 (no deployments: write): one warning for the whole run, no further calls, no throw', async () => {
    github.fail({ status: 403 });
    const deployments = createGitHubDeployments(options());
    await deployments.start('staging', 'deploying staging');
    await deployments.start('production', 'deploying production');
    await deployments.finish('staging', 'succeeded', 'staging deployed');
    await deployments.finish('production', 'failed', 'production failed');
    expect(github.requests.map((r) => `${line(r)} ${r.status}`)).toEqual(['POST /repos/octo/app/deployments 403']);
    expect(log.warnings).toEqual([`${PERMISSION_WARNING} (GitHub answered 403: Resource not accessible by integration)`]);
  });

  it('403 with targets starting at once: still one call and one warning', async () => {
    github.fail({ status: 403 });
    const deployments = createGitHubDeployments(options({ gateMode: true }));
    await Promise.all(['a', 'b', 'c'].map((t) => deployments.start(t, `deploying ${t}`)));
    await Promise.all(['a', 'b', 'c'].map((t) => deployments.finish(t, 'succeeded', `${t} deployed`)));
    expect(github.requests).toHaveLength(1);
    expect(log.warnings).toHaveLength(1);
  });

  it('404 (no access to the repository) is the same one warning', async () => {
    github.fail({ status: 404 });
    const deployments = createGitHubDeployments(options({ gateMode: true }));
    await deployments.finish('staging', 'succeeded', 'staging deployed');
    expect(github.requests).toHaveLength(1);
    expect(log.warnings).toEqual([`${PERMISSION_WARNING} (GitHub answered 404: Not Found)`]);
  });

  it('500 on create: a warning naming the target, no throw; finish tries again and records the outcome', async () => {
    github.fail({ status: 500, method: 'POST', path: /\/deployments$/, times: 1 });
    const deployments = createGitHubDeployments(options());
    await deployments.start('staging', 'deploying staging');
    expect(log.warnings).toEqual(['[staging] could not create its GitHub deployment (GitHub answered 500: Server Error); the deployment goes on']);
    await deployments.finish('staging', 'succeeded', 'staging deployed');
    expect(github.requests.map((r) => `${line(r)} ${r.status}`)).toEqual([
      'POST /repos/octo/app/deployments 500',
      `GET /repos/octo/app/deployments?sha=${SHA}&task=deploy&environment=staging&per_page=100 200`,
      'POST /repos/octo/app/deployments 201',
      'POST /repos/octo/app/deployments/1000/statuses 201',
    ]);
    expect(statesOf(1000)).toEqual(['success']);
  });

  it('500 on a status: a warning, and later calls still go out', async () => {
    github.fail({ status: 500, method: 'POST', path: /\/statuses$/, times: 1 });
    const deployments = createGitHubDeployments(options());
    await deployments.start('staging', 'deploying staging');
    await deployments.finish('staging', 'rolled-back', 'staging rolled back: strategy webhook Canary failed');
    expect(log.warnings).toEqual([
      '[staging] could not set GitHub deployment 1000 to in_progress (GitHub answered 500: Server Error); the deployment goes on',
    ]);
    expect(statesOf(1000)).toEqual(['failure']);
  });

  it('422 names GitHub’s reason', async () => {
    const deployments = createGitHubDeployments(options({ sha: '', ref: 'refs/heads/gone' }));
    await deployments.start('staging', 'deploying');
    expect(log.warnings).toEqual(['[staging] could not create its GitHub deployment (GitHub answered 422: No ref found for: refs/heads/gone); the deployment goes on']);
  });

  it('a call that gets no answer ends after its timeout with a warning', async () => {
    github.fail({ status: 'hang', method: 'POST', path: /\/deployments$/ });
    const deployments = createGitHubDeployments(options({ timeoutMs: 200 }));
    await within(5000, deployments.start('staging', 'deploying'));
    expect(log.warnings).toEqual(['[staging] could not create its GitHub deployment (no answer within 200 ms); the deployment goes on']);
  });

  it('a canceled target’s status gets at most 3 s: the runner kills a canceled step soon after SIGINT', async () => {
    const deployments = createGitHubDeployments(options({ timeoutMs: 60_000 }));
    await deployments.start('staging', 'deploying');
    github.fail({ status: 'hang', method: 'POST', path: /\/statuses$/ });
    const started = Date.now();
    await within(6000, deployments.finish('staging', 'canceled', 'staging canceled: the workflow job was canceled'));
    expect(Date.now() - started).toBeLessThan(4500);
    expect(log.warnings).toEqual(['[staging] could not set GitHub deployment 1000 to inactive (no answer within 3s); the deployment goes on']);
  });

  it('an unreachable API is a warning, not an error', async () => {
    const port = await freePort();
    const deployments = createGitHubDeployments(options({ apiUrl: `http://127.0.0.1:${port}` }));
    await deployments.start('staging', 'deploying');
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toMatch(/^\[staging\] could not create its GitHub deployment \(no answer: .*ECONNREFUSED.*\); the deployment goes on$/);
  });

  it('never logs the token, whatever fails', async () => {
    for (const status of [401, 403, 500] as const) {
      const fake = await startFakeGitHub(TOKEN);
      fake.fail({ status });
      const deployments = createGitHubDeployments(options({ apiUrl: fake.url, gateMode: true }));
      await deployments.start('staging', 'deploying');
      await deployments.finish('staging', 'succeeded', 'staging deployed');
      await markAbandoned({ ...options({ apiUrl: fake.url }), reason: 'killed' });
      await fake.close();
    }
    expect(log.warnings.length).toBeGreaterThanOrEqual(3);
    expect(log.warnings.some((w) => w.includes('github-token was refused (GitHub answered 401: Bad credentials)'))).toBe(true);
    for (const message of log.lines) expect(message).not.toContain(TOKEN);
  });
});

describe('the bundle', () => {
  it('loads Octokit only when a deployment is made: it is in a lazy chunk, not in what loads at start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hookgate-github-deployments-'));
    try {
      const entry = join(dir, 'entry.ts');
      await writeFile(entry, `import { createGitHubDeployments } from ${JSON.stringify(join(ROOT, 'action', 'clients', 'github-deployments.ts'))};\nconsole.log(typeof createGitHubDeployments);\n`);
      await build({ ...buildOptions, absWorkingDir: ROOT, entryPoints: { entry }, outdir: join(dir, 'out'), logLevel: 'silent' });
      const out = join(dir, 'out');
      const eager = new Set<string>();
      const visit = async (file: string): Promise<void> => {
        if (eager.has(file)) return;
        eager.add(file);
        const text = await readFile(join(out, file), 'utf8');
        for (const m of text.matchAll(/(?:from|import)\s*"\.\/((?:chunks\/)?[^"]+)"/g)) await visit(join(file, '..', m[1] ?? '').replace(/^\.\//, ''));
      };
      await visit('entry.js');
      const all = (await readdir(out, { recursive: true })).filter((f) => f.endsWith('.js'));
      const lazy = all.filter((f) => !eager.has(f));
      const eagerText = (await Promise.all([...eager].map((f) => readFile(join(out, f), 'utf8')))).join('');
      const lazyText = (await Promise.all(lazy.map((f) => readFile(join(out, f), 'utf8')))).join('');
      expect(eagerText).not.toContain('octokit');
      expect(lazyText).toContain('octokit');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
