import { describe, expect, it } from 'vitest';
import { BUILTIN_NAMES, isKnownName, outputName, parseTemplate, renderTemplate, responseName, templateNames } from '../../../action/plan/template.ts';

const vars =
  (values: Record<string, string>) =>
  (name: string): string | undefined =>
    Object.hasOwn(values, name) ? values[name] : undefined;

describe('templateNames', () => {
  it('lists the names in order of first use, once each', () => {
    expect(templateNames('{{a.b}} {{ c }} {{a.b}}{{d}}')).toEqual(['a.b', 'c', 'd']);
  });

  it('allows any spacing inside the braces', () => {
    expect(templateNames('x{{   armory.callbackUri\t}}y')).toEqual(['armory.callbackUri']);
  });

  it('finds nothing in plain text and JSON that only uses single braces', () => {
    expect(templateNames('')).toEqual([]);
    expect(templateNames('{"a": {"b": 1}}')).toEqual([]);
  });

  it('takes the first }} as the end, so a JSON object around a variable works', () => {
    expect(templateNames('{"x": {{context.obj}}}')).toEqual(['context.obj']);
  });

  it('allows dashes and underscores in names', () => {
    expect(templateNames('{{context.my-key_2}}')).toEqual(['context.my-key_2']);
  });

  it('throws for an unclosed {{', () => {
    expect(() => templateNames('a {{b')).toThrow(/no closing '}}'/);
  });
});

describe('parseTemplate', () => {
  it('splits text and variables', () => {
    const parsed = parseTemplate('https://x/{{ a }}?q={{b}}');
    expect(parsed).toEqual({
      ok: true,
      names: ['a', 'b'],
      parts: [
        { kind: 'text', text: 'https://x/' },
        { kind: 'var', name: 'a' },
        { kind: 'text', text: '?q=' },
        { kind: 'var', name: 'b' },
      ],
    });
  });

  it('reports an unclosed {{ with its offset', () => {
    expect(parseTemplate('ok {{a}} then {{b')).toEqual({
      ok: false,
      error: { offset: 14, message: "'{{' at offset 14 has no closing '}}'" },
    });
  });

  it('reports an empty name', () => {
    const parsed = parseTemplate('x{{  }}');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.message).toMatch(/names no variable/);
  });

  it('reports a name with spaces or braces inside', () => {
    for (const bad of ['{{ a b }}', '{{{a}}}', '{{a{b}}']) {
      const parsed = parseTemplate(bad);
      expect(parsed.ok, bad).toBe(false);
      if (!parsed.ok) expect(parsed.error.message).toMatch(/is not a variable name/);
    }
  });

  it('treats a lone }} as text', () => {
    expect(parseTemplate('a }} b')).toEqual({ ok: true, names: [], parts: [{ kind: 'text', text: 'a }} b' }] });
  });
});

describe('renderTemplate', () => {
  it('replaces every variable, with or without spaces', () => {
    const out = renderTemplate('{{ armory.callbackUri }}/callback?e={{armory.environmentName}}', vars({
      'armory.callbackUri': 'https://relay/g/abc',
      'armory.environmentName': 'prod',
    }));
    expect(out).toBe('https://relay/g/abc/callback?e=prod');
  });

  it('inserts values verbatim, without any escaping', () => {
    const out = renderTemplate('{"msg": "{{context.m}}"}', vars({ 'context.m': 'say "hi" & <b>' }));
    expect(out).toBe('{"msg": "say "hi" & <b>"}');
  });

  it('does not re-render a value that contains {{', () => {
    const out = renderTemplate('{{secrets.a}}', vars({ 'secrets.a': '{{secrets.b}}', 'secrets.b': 'leak' }));
    expect(out).toBe('{{secrets.b}}');
  });

  it('leaves a template without variables unchanged', () => {
    expect(renderTemplate('{"a": {"b": 1}}', vars({}))).toBe('{"a": {"b": 1}}');
  });

  it('throws naming an unknown variable', () => {
    expect(() => renderTemplate('x {{ context.suite }}', vars({}))).toThrow("Template variable 'context.suite' has no value");
  });

  it('renders an empty value as empty', () => {
    expect(renderTemplate('[{{armory.namespace}}]', vars({ 'armory.namespace': '' }))).toBe('[]');
  });

  it('throws for a malformed template', () => {
    expect(() => renderTemplate('{{a', vars({ a: '1' }))).toThrow(/no closing/);
  });
});

describe('isKnownName', () => {
  const known = { secretNames: new Set(['ci_token']), contextKeys: new Set(['suite', 'my.key']) };

  it('knows every Armory, hookgate and github name', () => {
    const expected = [
      'armory.callbackUri', 'armory.deploymentId', 'armory.applicationName', 'armory.environmentName',
      'armory.accountName', 'armory.namespace', 'armory.replicaSetName',
      'hookgate.callbackUri', 'hookgate.deploymentId', 'hookgate.applicationName', 'hookgate.environmentName',
      'hookgate.accountName', 'hookgate.namespace', 'hookgate.replicaSetName', 'hookgate.approvalUrl', 'hookgate.runUrl',
      'github.repository', 'github.sha', 'github.ref', 'github.runId', 'github.runAttempt', 'github.actor',
    ];
    for (const name of expected) expect(isKnownName(name, known), name).toBe(true);
    expect([...BUILTIN_NAMES].sort()).toEqual([...expected].sort());
  });

  it('rejects names that only look similar', () => {
    for (const name of ['armory.approvalUrl', 'armory.runUrl', 'github.token', 'Armory.callbackUri', 'callbackUri', 'armory', '']) {
      expect(isKnownName(name, known), name).toBe(false);
    }
  });

  it('knows context keys and secrets only when given', () => {
    expect(isKnownName('context.suite', known)).toBe(true);
    expect(isKnownName('context.my.key', known)).toBe(true);
    expect(isKnownName('context.other', known)).toBe(false);
    expect(isKnownName('context.', known)).toBe(false);
    expect(isKnownName('secrets.ci_token', known)).toBe(true);
    expect(isKnownName('secrets.CI_TOKEN', known)).toBe(false);
    expect(isKnownName('secrets.', known)).toBe(false);
  });
});

describe('outputName', () => {
  it('splits outputs.<step>.<key> at the last dot, a webhook name may hold dots', () => {
    expect(outputName('outputs.Run-Tests.build')).toEqual({ step: 'Run-Tests', key: 'build' });
    expect(outputName('outputs.Build.v2.image_tag')).toEqual({ step: 'Build.v2', key: 'image_tag' });
    expect(outputName('outputs.approval.approvedBy')).toEqual({ step: 'approval', key: 'approvedBy' });
  });

  it('is null for another family, a missing step or key, and a key that is no output key', () => {
    for (const name of ['context.a.b', 'outputs.', 'outputs.build', 'outputs..key', 'outputs.A.', 'outputs.A.1st', 'outputs.A.-x', `outputs.A.${'k'.repeat(65)}`]) {
      expect(outputName(name), name).toBeNull();
    }
  });
});

describe('responseName', () => {
  it('reads location, locationId and a path into the body', () => {
    expect(responseName('response.location')).toEqual({ kind: 'location' });
    expect(responseName('response.locationId')).toEqual({ kind: 'locationId' });
    expect(responseName('response.body.id')).toEqual({ kind: 'body', path: ['id'] });
    expect(responseName('response.body.items.0.url')).toEqual({ kind: 'body', path: ['items', '0', 'url'] });
  });

  it('is null for anything else', () => {
    for (const name of ['response', 'response.body', 'response.body.', 'response.body.a..b', 'response.status', 'response.locationid', 'outputs.a.b']) {
      expect(responseName(name), name).toBeNull();
    }
  });
});
