import { describe, expect, it } from 'vitest';
import { isOneOf, renderStatusPath, responseVars, statusAt } from '../../../action/effects/monitor-vars.ts';

const none = (): undefined => undefined;

describe('monitor variables and statusPath', () => {
  it('resolves response.location against the call’s URL and takes its last non-empty segment as locationId', () => {
    const { vars } = responseVars(none, { status: 201, headers: new Headers({ location: 'queue/item/42/' }), body: '' }, 'http://ci.local:8080/job/smoke/buildWithParameters?x=1');
    expect(vars('response.location')).toBe('http://ci.local:8080/job/smoke/queue/item/42/');
    expect(vars('response.locationId')).toBe('42');
  });

  it('reads response.body values: text as is, numbers as text, objects as JSON, list items by index', () => {
    const body = JSON.stringify({ run: { id: 7, ok: true, tags: ['a', 'b'], meta: { k: 'v' } } });
    const { vars, why } = responseVars(none, { status: 200, headers: new Headers(), body }, '');
    expect(['run.id', 'run.ok', 'run.tags.1', 'run.meta', 'run.tags.x', 'run.constructor'].map((k) => vars(`response.body.${k}`))).toEqual(['7', 'true', 'b', '{"k":"v"}', undefined, undefined]);
    expect(why('response.body.run.tags.x')).toBe("the call's JSON answer (HTTP 200) has no value at run.tags.x");
  });

  it('leaves the webhook’s own variables to its resolver', () => {
    const { vars } = responseVars((name) => (name === 'context.app' ? 'api' : undefined), { status: 200, headers: new Headers(), body: '' }, '');
    expect(vars('context.app')).toBe('api');
    expect(vars('response.status')).toBeUndefined();
  });

  it('puts only plain tokens into statusPath', () => {
    const vars = (name: string): string | undefined => ({ 'response.locationId': '42', 'context.env': "prod' || true || '" })[name];
    expect(renderStatusPath('$.builds[?(@.queueId=={{response.locationId}})].result', vars)).toBe('$.builds[?(@.queueId==42)].result');
    expect(() => renderStatusPath("$.x[?(@.env=='{{context.env}}')]", vars)).toThrow("{{context.env}} cannot go into statusPath: its value is not made of letters, digits, '.', '_' and '-' only");
    expect(() => renderStatusPath('$.{{secrets.nope}}', vars)).toThrow("Template variable 'secrets.nope' has no value");
  });

  it('takes the first match, tells no match from null, and shows objects as JSON', () => {
    const doc = { a: [{ r: 'x' }, { r: 'y' }], n: null, o: { k: 1 } };
    expect(statusAt(doc, '$.a[*].r')).toEqual({ kind: 'value', text: 'x' });
    expect(statusAt(doc, '$.missing')).toEqual({ kind: 'none' });
    expect(statusAt(doc, '$.n')).toEqual({ kind: 'null' });
    expect(statusAt(doc, '$.o')).toEqual({ kind: 'value', text: '{"k":1}' });
    expect(statusAt(null, '$.a')).toEqual({ kind: 'none' });
  });

  it('evaluates filters without running code from the path', () => {
    const doc = { builds: [{ queueId: 1, result: 'SUCCESS' }] };
    const scope = globalThis as { hacked?: number };
    expect(statusAt(doc, "$.builds[?(@.constructor.constructor('globalThis.hacked = 1')())]")).toEqual({ kind: 'none' });
    expect(statusAt(doc, "$.builds[?(this.hacked = 2)]")).toEqual({ kind: 'none' });
    expect(scope.hacked).toBeUndefined();
    expect(statusAt(doc, '$.builds[?(@.queueId==1)].result')).toEqual({ kind: 'value', text: 'SUCCESS' });
  });

  it('compares values ignoring case and surrounding spaces', () => {
    expect(isOneOf(['Succeeded'], ' succeeded')).toBe(true);
    expect(isOneOf(['Succeeded'], 'Succeeded!')).toBe(false);
  });
});
