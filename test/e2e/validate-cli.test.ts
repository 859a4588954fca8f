/**
 * `hookgate validate` as a person or a CI job runs it: the committed dist/cli.js on real files in a
 * temporary directory, its output and exit status; and `npx hookgate` in the repository itself.
 * No relay: validating contacts nothing.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local-relay.ts';

const CLI = join(ROOT, 'dist', 'cli.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; a non-zero exit is a result, not a failure. */
function exec(file: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    // Without the runner's variables, so the output format is the plain one unless a test asks.
    const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('GITHUB_')));
    execFile(file, args, { cwd, env: { ...base, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      if (code === null) reject(error ?? new Error('no exit status'));
      else resolve({ code, stdout, stderr });
    });
  });
}

const validate = (args: string[], env?: Record<string, string>): Promise<Result> => exec(process.execPath, [CLI, 'validate', ...args], dir, env);

const GOOD = `# yaml-language-server: $schema=https://raw.githubusercontent.com/acme/hookgate/v1/dist/deploy.schema.json
application: potato-facts
kind: kubernetes
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Migrate }
  prod:
    constraints:
      dependsOn: [staging]
webhooks:
  - name: Migrate
    uriTemplate: https://ci.example.com/migrate?env={{context.region}}
    headers:
      - { key: Authorization, value: "Bearer {{secrets.ci_token}}" }
    bodyTemplate: { path: hooks/body.json }
`;

const BAD = `targets:
  staging:
    constraints:
      dependsOn: [stagin]
      beforeDeployment:
        - runWebhook: { name: Missing-Hook }
  prod:
    strategy: canary
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hookgate-validate-'));
  await mkdir(join(dir, 'hooks'));
  await writeFile(join(dir, 'hooks', 'body.json'), '{"callbackUri": "{{armory.callbackUri}}"}');
  await writeFile(join(dir, 'deploy.yml'), GOOD);
  await writeFile(join(dir, 'bad.yml'), BAD);
  await writeFile(join(dir, 'evil.yml'), 'targets:\n  "::error::forged\\n::add-mask::x": {}\n  b:\n    constraints: { dependsOn: ["##[error]no", "x\\n::add-mask::forged\\r::warning::y"] }\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('hookgate validate', () => {
  it('passes a valid file (deploy.yml by default) with its notices, exit 0', async () => {
    const result = await validate(['--context', 'region=eu']);
    expect(result).toEqual({
      code: 0,
      stdout: [
        "notice: kind is a Kubernetes field and is ignored (deploy.yml:3:1)",
        'deploy.yml is valid: application potato-facts, 2 target(s) in run order (staging, prod), 1 webhook(s)',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('reports every error as file:line:col: field: message, exit 1', async () => {
    const result = await validate(['bad.yml']);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')).toEqual([
      "bad.yml:4:19: targets.staging.constraints.dependsOn[0]: target 'stagin' is not defined under targets (did you mean 'staging'?)",
      "bad.yml:6:31: targets.staging.constraints.beforeDeployment[0].runWebhook.name: webhook 'Missing-Hook' is used by target staging but not defined under webhooks",
      "bad.yml:8:15: targets.prod.strategy: strategy 'canary' is used by target prod but not defined under strategies",
      'bad.yml: 3 errors',
      '',
    ]);
  });

  it('checks context keys the file does not set unless --context names them', async () => {
    const result = await validate([]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("deploy.yml:8:11: targets.staging.constraints.beforeDeployment[0].runWebhook: webhook 'Migrate' uses {{context.region}} in uriTemplate");
  });

  it('takes any secret name, or only those --secrets lists', async () => {
    expect((await validate(['--context', 'region', '--secrets', 'ci_token,other'])).code).toBe(0);
    const narrow = await validate(['--context', 'region', '--secrets', 'ci_tokn']);
    expect(narrow.code).toBe(1);
    expect(narrow.stdout).toContain("unknown template variable {{secrets.ci_token}}: the secrets input has no 'ci_token' (did you mean 'ci_tokn'?)");
  });

  it('writes annotations in a GitHub Actions job', async () => {
    const result = await validate(['bad.yml'], { GITHUB_ACTIONS: 'true' });
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')[0]).toBe(
      "::error file=bad.yml,line=4,col=19,title=Invalid deployment file::bad.yml:4:19: targets.staging.constraints.dependsOn[0]: target 'stagin' is not defined under targets (did you mean 'staging'?)",
    );
    const good = await validate(['--format', 'github', '--context', 'region=eu']);
    expect(good.stdout.split('\n')[0]).toBe('::notice::kind is a Kubernetes field and is ignored (deploy.yml:3:1)');
  });

  it('prints no workflow command a file could forge', async () => {
    for (const format of ['text', 'github']) {
      const result = await validate(['evil.yml', '--format', format]);
      expect(result.code).toBe(1);
      const lines = result.stdout.split(/\r\n|\r|\n/);
      expect(lines.filter((line) => line.includes('forged')).length).toBeGreaterThan(0);
      // Only the annotations this command means to write start with ::, and none carries a line break.
      expect(lines.filter((line) => line.trimStart().startsWith('::') && !line.startsWith('::error file=evil.yml,'))).toEqual([]);
      expect(lines.filter((line) => line.includes('##['))).toEqual([]);
    }
  });

  it('stops a bodyTemplate.path that leaves the workspace', async () => {
    await writeFile(join(dir, 'escape.yml'), GOOD.replace('hooks/body.json', '../../etc/passwd'));
    const result = await validate(['escape.yml', '--context', 'region=eu']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("escape.yml:17:27: webhooks[0].bodyTemplate.path: cannot read ../../etc/passwd (relative to the deployment file): bodyTemplate.path '../../etc/passwd' is outside the workspace");
    expect(result.stdout).not.toContain('root:');
  });

  it.each([
    [['nope.yml'], 'cannot read nope.yml'],
    [['--colour'], "Unknown option '--colour'"],
    [['a.yml', 'b.yml'], 'validate takes one file'],
    [['--format', 'xml'], "--format: expected text or github, got 'xml'"],
    [['--secrets', 'a-b'], "--secrets: 'a-b' is not a secret name"],
  ])('exits 2 for a usage error: %j', async (args, message) => {
    const result = await validate(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
  });

  it('explains itself with --help, exit 0', async () => {
    const result = await exec(process.execPath, [CLI, '--help'], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: hookgate validate [file] [options]');
    const none = await exec(process.execPath, [CLI], dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no command given');
  });

  it('runs as `npx hookgate validate` in the repository (package.json bin)', async () => {
    const result = await exec('npx', ['--no-install', 'hookgate', 'validate', 'examples/deploy.yml', '--context', 'externalUrl=https://example.com'], ROOT);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('examples/deploy.yml is valid: application potato-facts, 2 target(s) in run order (staging, prod), 4 webhook(s)\n');
    expect(result.code).toBe(0);
  });
});
