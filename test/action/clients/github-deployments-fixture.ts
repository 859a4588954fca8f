/**
 * The setup of the GitHub deployments tests: a local fake of GitHub's REST endpoints
 * (test/support/github-api.ts) that checks every request as GitHub would; every test
 * ends with no request GitHub would have refused and no token in the log.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import type { GitHubDeploymentsOptions } from '../../../action/clients/github-deployments.ts';
import type { Log } from '../../../action/output/log.ts';
import { startFakeGitHub } from '../../support/github-api.ts';
import type { FakeGitHub, RecordedRequest } from '../../support/github-api.ts';

export const TOKEN = 'ghs_16C7e42F292c6912E7710c838347Ae178B4a';
export const SHA = 'c0ffee254729296a45a3885639ac7ef10b0a8e1f';
export const RUN_URL = 'https://github.com/octo/app/actions/runs/42';
/** The start of the warning for a token without `deployments: write`. */
export const PERMISSION_WARNING = 'github-token cannot create deployments (the workflow needs `permissions: deployments: write`)';

export interface RecordingLog extends Log {
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
    commandOutput: (m) => void lines.push(m),
    warning: (m) => void (lines.push(m), warnings.push(m)),
    error: (m) => void lines.push(m),
    notice: (m) => void lines.push(m),
    startGroup: (m) => void lines.push(m),
    endGroup: () => undefined,
  };
}

// Live bindings: each test sees the fake and log of its own beforeEach.
export let github: FakeGitHub;
export let log: RecordingLog;

/** Starts a fresh fake GitHub (GITHUB_API_URL) and log before each test of the file, and checks both after it. */
export function useFakeGitHub(): void {
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
}

export function options(fields: Partial<GitHubDeploymentsOptions> = {}): GitHubDeploymentsOptions {
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
export const line = (r: RecordedRequest): string => `${r.method} ${r.path}${Object.keys(r.query).length > 0 ? `?${new URLSearchParams(r.query).toString()}` : ''}`;
export const statesOf = (id: number): string[] => github.deployments.find((d) => d.id === id)?.statuses.map((s) => s.state) ?? [];
