import { describe, expect, it } from 'vitest';
import type { Outputs } from '../../../shared/protocol.ts';
import type { GitHubContext } from '../../../action/settings.ts';
import { BUILTIN_NAMES, outputName } from '../../../action/plan/template.ts';
import { templateResolver } from '../../../action/effects/template-vars.ts';
import type { TemplateScope } from '../../../action/effects/template-vars.ts';

const github: GitHubContext = {
  repository: 'octo/potato-facts',
  sha: 'abc123',
  ref: 'refs/heads/main',
  runId: '4242',
  runAttempt: '2',
  actor: 'mona',
  initiator: 'mona',
  serverUrl: 'https://github.com',
  workspace: '/work',
  runUrl: 'https://github.com/octo/potato-facts/actions/runs/4242',
    attemptUrl: 'https://github.com/octo/potato-facts/actions/runs/4242/attempts/1',
  workflowRef: 'octo/potato-facts/.github/workflows/deploy.yml@refs/heads/main',
  eventName: 'push',
  eventPath: '',
};

const scope: TemplateScope = {
  deploymentId: 'octo/potato-facts/4242',
  application: 'potato-facts',
  target: 'staging',
  callbackUri: 'https://relay.example/cb/tok',
  approvalUrl: 'https://relay.example/approve/xyz',
  github,
  context: { team: 'payments', 'my-key': 'dashes', 'a.b': 'dotted' },
  secrets: { ci_token: 's3cr3t' },
};

describe('templateResolver', () => {
  const resolve = templateResolver(scope);

  it('gives Armory names and their hookgate equivalents the same values', () => {
    const expected: Record<string, string> = {
      callbackUri: 'https://relay.example/cb/tok',
      deploymentId: 'octo/potato-facts/4242',
      applicationName: 'potato-facts',
      environmentName: 'staging',
      accountName: '',
      namespace: '',
      replicaSetName: 'potato-facts-abc123',
    };
    for (const [field, value] of Object.entries(expected)) {
      expect(resolve(`armory.${field}`)).toBe(value);
      expect(resolve(`hookgate.${field}`)).toBe(value);
    }
  });

  it('gives the target’s account and namespace, and a replicaSetName stable for the commit', () => {
    const sha = '0123456789abcdef0123456789abcdef01234567';
    const target = templateResolver({ ...scope, account: 'prod-cluster', namespace: 'payments', github: { ...github, sha } });
    expect([target('armory.accountName'), target('armory.namespace'), target('armory.replicaSetName')]).toEqual(['prod-cluster', 'payments', 'potato-facts-0123456789']);
    expect(templateResolver({ ...scope, github: { ...github, sha: '' } })('armory.replicaSetName')).toBe('potato-facts-4242');
  });

  it('has the approval URL and run URL under hookgate only', () => {
    expect(resolve('hookgate.approvalUrl')).toBe('https://relay.example/approve/xyz');
    expect(resolve('hookgate.runUrl')).toBe('https://github.com/octo/potato-facts/actions/runs/4242');
    expect(resolve('armory.approvalUrl')).toBeUndefined();
    expect(resolve('armory.runUrl')).toBeUndefined();
  });

  it("exposes the run's GitHub facts, and not the workspace or server URL", () => {
    expect(['repository', 'sha', 'ref', 'runId', 'runAttempt', 'actor'].map((f) => resolve(`github.${f}`))).toEqual([
      'octo/potato-facts',
      'abc123',
      'refs/heads/main',
      '4242',
      '2',
      'mona',
    ]);
    expect(resolve('github.workspace')).toBeUndefined();
    expect(resolve('github.serverUrl')).toBeUndefined();
  });

  it('resolves context keys (dashes and dots included) and secrets', () => {
    expect(resolve('context.team')).toBe('payments');
    expect(resolve('context.my-key')).toBe('dashes');
    expect(resolve('context.a.b')).toBe('dotted');
    expect(resolve('secrets.ci_token')).toBe('s3cr3t');
  });

  it('is undefined for unknown names, namespaces, names without a namespace and inherited keys', () => {
    expect(resolve('context.missing')).toBeUndefined();
    expect(resolve('secrets.missing')).toBeUndefined();
    expect(resolve('env.HOME')).toBeUndefined();
    expect(resolve('team')).toBeUndefined();
    expect(resolve('context.toString')).toBeUndefined();
    expect(resolve('secrets.__proto__')).toBeUndefined();
  });

  // Names from the namespace table's prototype must not resolve: `constructor.name` would be
  // 'Object', `toString.length` the number 1.
  it('is undefined for names whose namespace is inherited from Object.prototype', () => {
    expect(resolve('constructor.name')).toBeUndefined();
    expect(resolve('toString.length')).toBeUndefined();
  });

  it('has a value for every built-in name the file validator accepts', () => {
    for (const name of BUILTIN_NAMES) expect(resolve(name), name).toBeTypeOf('string');
  });
});

describe('{{outputs.<step>.<key>}}', () => {
  const outputs = new Map<string, Outputs>([
    ['Run-Tests', { build: 'b-17', passed: true, count: 412, zero: 0 }],
    ['v1.2.deploy', { url: 'https://x' }],
  ]);
  const resolve = templateResolver({ ...scope, outputs });

  it('renders the target’s outputs as text: numbers and booleans through String', () => {
    expect(['build', 'passed', 'count', 'zero'].map((key) => resolve(`outputs.Run-Tests.${key}`))).toEqual(['b-17', 'true', '412', '0']);
  });

  it('splits at the last dot, so a webhook name may hold dots', () => {
    expect(outputName('outputs.v1.2.deploy.url')).toEqual({ step: 'v1.2.deploy', key: 'url' });
    expect(resolve('outputs.v1.2.deploy.url')).toBe('https://x');
  });

  it('is undefined for a missing step or key, an inherited key and a malformed name', () => {
    expect(resolve('outputs.Run-Tests.missing')).toBeUndefined();
    expect(resolve('outputs.Smoke.build')).toBeUndefined();
    expect(resolve('outputs.Run-Tests.toString')).toBeUndefined();
    expect(resolve('outputs.Run-Tests')).toBeUndefined();
    expect(outputName('outputs.Run-Tests.')).toBeNull();
    expect(outputName('context.x')).toBeNull();
  });

  it('is undefined without any outputs', () => {
    expect(templateResolver(scope)('outputs.Run-Tests.build')).toBeUndefined();
  });
});
