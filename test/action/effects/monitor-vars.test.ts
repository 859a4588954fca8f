import { describe, expect, it } from 'vitest';
import { foreignOrigin, isOneOf, renderStatusPath, responseVars, statusAt } from '../../../action/effects/monitor-vars.ts';

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

  it('lets a response.* variable choose the status URL’s origin only when it is the call’s or one the file writes', () => {
    const vars = (name: string): string | undefined => ({ 'context.ci': 'https://ci.example', 'context.half': 'https://ci' })[name];
    const call = 'https://hooks.example/trigger';
    // Text (or a file's variable) before the answer's value that ends the host: the answer cannot move it.
    expect(foreignOrigin('{{context.ci}}/runs/{{response.body.id}}', 'https://ci.example/runs/@evil.example', call, vars)).toBeNull();
    expect(foreignOrigin('https://ci.example\\{{response.body.id}}', 'https://ci.example\\x', call, vars)).toBeNull();
    expect(foreignOrigin('{{response.location}}', 'https://hooks.example/queue/1', call, vars)).toBeNull();
    expect(foreignOrigin('https://ci.example{{response.body.path}}', 'https://ci.example/x', call, vars)).toBeNull();
    expect(foreignOrigin('https://static.example/x', 'https://static.example/x', call, vars)).toBeNull();
    // A file's variable that does not end the host leaves it to the answer.
    expect(foreignOrigin('{{context.half}}{{response.body.rest}}', 'https://ci.evil.example/x', call, vars)).toContain('origin https://ci.evil.example comes from {{response.body.rest}}');
    expect(foreignOrigin('{{response.location}}', 'https://hooks.example:8443/queue/1', call, vars)).toContain("neither the webhook call's (https://hooks.example)");
  });

  it('says the call’s answer was too large, not that it is not JSON, when it was not read whole', () => {
    const { vars, why } = responseVars(none, { status: 200, headers: new Headers(), body: null }, '');
    expect(vars('response.body.id')).toBeUndefined();
    expect(why('response.body.id')).toBe("the call's answer (HTTP 200) is larger than 64 KiB (the monitor reads no more of it)");
  });
});
