import { describe, expect, it } from 'vitest';
import type { Outputs } from '../../../shared/protocol.ts';
import type { GitHubContext } from '../../../action/settings.ts';
import { BUILTIN_NAMES, bodyPlacement, outputName, renderTemplate } from '../../../action/plan/template.ts';
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

// Outputs are outside text (a callback's outputs, an approver's comment, a typed name): where they
// land they are data, so they can add no JSON field, query parameter or header.
describe('{{outputs.*}} where they land', () => {
  const comment = 'ok", "rollback": true, "x": "';
  const outputs = new Map<string, Outputs>([
    ['approval', { decision: 'approved', comment, approvedBy: 'mona' }],
    ['Run-Tests', { build: 'b-17&channel=%23general', passed: true, count: 412, note: 'line 1\nline 2 \\ "quoted"', crlf: 'x\r\nX-Admin: 1' }],
  ]);
  const resolve = templateResolver({ ...scope, context: { ...scope.context, query: 'a=1&b=2' }, outputs });

  it('in a JSON body stay inside their string: a quote in a comment adds no field', () => {
    const body = renderTemplate('{"rollback": false, "note": "{{outputs.approval.comment}}", "text": "{{outputs.Run-Tests.note}}"}', resolve, 'json');
    expect(JSON.parse(body)).toEqual({ rollback: false, note: comment, text: 'line 1\nline 2 \\ "quoted"' });
  });

  it('in a JSON body keep numbers and booleans written outside quotes', () => {
    const body = renderTemplate('{"passed": {{outputs.Run-Tests.passed}}, "count": {{outputs.Run-Tests.count}}}', resolve, 'json');
    expect(JSON.parse(body)).toEqual({ passed: true, count: 412 });
  });

  it('in a URL are percent-encoded: an & adds no query parameter', () => {
    const url = new URL(renderTemplate('https://chat.example/hooks?build={{outputs.Run-Tests.build}}&by={{outputs.approval.approvedBy}}', resolve, 'uri'));
    expect(url.searchParams.get('build')).toBe('b-17&channel=%23general');
    expect(url.searchParams.has('channel')).toBe(false);
    expect(url.searchParams.get('by')).toBe('mona');
    expect(renderTemplate('https://ci.example/builds/{{outputs.Run-Tests.build}}/logs', resolve, 'uri')).toBe('https://ci.example/builds/b-17%26channel%3D%2523general/logs');
  });

  it('in a header are refused with a line break, naming the variable; else sent as they are', () => {
    expect(() => renderTemplate('Build {{outputs.Run-Tests.crlf}}', resolve, 'header')).toThrow(/\{\{outputs\.Run-Tests\.crlf\}\} cannot go into a header: its value holds a line break/);
    expect(() => renderTemplate('{{outputs.Run-Tests.note}}', resolve, 'header')).toThrow(/cannot go into a header/);
    expect(renderTemplate('Build {{outputs.Run-Tests.build}}', resolve, 'header')).toBe('Build b-17&channel=%23general');
  });

  it('in a text body, and without a placement (statusPath checks its own), are pasted as they are', () => {
    expect(renderTemplate('note: {{outputs.approval.comment}}', resolve, 'text')).toBe(`note: ${comment}`);
    expect(renderTemplate('{{outputs.approval.comment}}', resolve)).toBe(comment);
  });

  it('change no other variable: context and secrets are the user’s own', () => {
    expect(renderTemplate('https://x.example/?{{context.query}}&t={{secrets.ci_token}}', resolve, 'uri')).toBe('https://x.example/?a=1&b=2&t=s3cr3t');
    expect(renderTemplate('{"q": "{{context.query}}"}', () => 'say "hi"', 'json')).toBe('{"q": "say "hi""}');
  });
});

describe('bodyPlacement', () => {
  it('is json for a body template starting with { or [ and no Content-Type (hookgate then sends application/json)', () => {
    expect(bodyPlacement('  {"a": 1}', {})).toBe('json');
    expect(bodyPlacement('\n[1, 2]', {})).toBe('json');
    expect(bodyPlacement('deployed {{outputs.a.b}}', {})).toBe('text');
  });

  it('follows a Content-Type header, in any case: JSON types, a form, else text', () => {
    expect(bodyPlacement('a={{outputs.x.y}}', { 'content-type': 'application/json; charset=utf-8' })).toBe('json');
    expect(bodyPlacement('x', { 'Content-Type': 'application/vnd.api+json' })).toBe('json');
    expect(bodyPlacement('a={{outputs.x.y}}', { 'CONTENT-TYPE': 'application/x-www-form-urlencoded' })).toBe('uri');
    expect(bodyPlacement('{"a": 1}', { 'Content-Type': 'text/plain' })).toBe('text');
  });
});
