import { describe, expect, it } from 'vitest';
import type { WebhookDef } from '../../../action/plan/plan.ts';
import { checkSigningSecrets, renderCancel, renderWebhook } from '../../../action/clients/webhook.ts';
import { here } from '../fakes.ts';

const def = (fields: Partial<WebhookDef> = {}): WebhookDef => ({
  name: 'Run-Tests',
  method: 'POST',
  uriTemplate: 'https://ci.example.com/hooks/{{armory.environmentName}}',
  headers: [],
  bodyTemplate: null,
  retryCount: 0,
  disableCallback: false,
  timeoutSeconds: 3600,
  cancel: null,
  signingSecret: null,
  heartbeatSeconds: null,
  monitor: null,
  location: here,
  ...fields,
});

const values: Record<string, string> = {
  'armory.environmentName': 'staging',
  'armory.callbackUri': 'https://relay.example/cb/tok',
  'secrets.ci_token': 's3cr3t',
  'context.tricky': '{{secrets.ci_token}}',
};
const vars = (name: string): string | undefined => (Object.hasOwn(values, name) ? values[name] : undefined);

describe('renderWebhook', () => {
  it('renders the URI, the header values and the body; header keys are sent as written', () => {
    const rendered = renderWebhook(
      def({
        headers: [
          { key: 'Authorization', value: 'Bearer {{secrets.ci_token}}' },
          { key: 'X-{{armory.environmentName}}', value: 'literal key' },
        ],
        bodyTemplate: '{"callbackUri": "{{armory.callbackUri}}/callback", "env": "{{ armory.environmentName }}"}',
      }),
      vars,
    );
    expect(rendered).toEqual({
      method: 'POST',
      url: 'https://ci.example.com/hooks/staging',
      headers: {
        Authorization: 'Bearer s3cr3t',
        'X-{{armory.environmentName}}': 'literal key',
        'Content-Type': 'application/json',
      },
      body: '{"callbackUri": "https://relay.example/cb/tok/callback", "env": "staging"}',
    });
  });

  it('defaults Content-Type to text for a body that is not JSON', () => {
    expect(renderWebhook(def({ bodyTemplate: 'deploy {{armory.environmentName}}' }), vars).headers).toEqual({
      'Content-Type': 'text/plain; charset=utf-8',
    });
    expect(renderWebhook(def({ bodyTemplate: '  [1, 2]' }), vars).headers['Content-Type']).toBe('application/json');
  });

  it('keeps a Content-Type the file sets, whatever its case', () => {
    const rendered = renderWebhook(
      def({ headers: [{ key: 'content-type', value: 'application/x-www-form-urlencoded' }], bodyTemplate: '{"a":1}' }),
      vars,
    );
    expect(rendered.headers).toEqual({ 'content-type': 'application/x-www-form-urlencoded' });
  });

  it('sets no body and no Content-Type without a body template', () => {
    const rendered = renderWebhook(def({ method: 'GET' }), vars);
    expect(rendered.body).toBeNull();
    expect(rendered.headers).toEqual({});
  });

  it('does not expand a template found inside a value', () => {
    expect(renderWebhook(def({ bodyTemplate: 'x={{context.tricky}}' }), vars).body).toBe('x={{secrets.ci_token}}');
  });

  it('throws naming a variable that has no value', () => {
    expect(() => renderWebhook(def({ bodyTemplate: '{{context.missing}}' }), vars)).toThrow("Template variable 'context.missing' has no value");
  });
});

describe('renderCancel', () => {
  const cancel = {
    method: 'DELETE',
    uriTemplate: 'https://ci.example.com/jobs/{{armory.environmentName}}',
    headers: [{ key: 'Authorization', value: 'Bearer {{secrets.ci_token}}' }],
    bodyTemplate: '{"callbackUri": "{{armory.callbackUri}}", "reason": "withdrawn"}',
  };

  it('renders the cancelTemplate with the same variables as the call', () => {
    expect(renderCancel(def({ cancel }), vars)).toEqual({
      method: 'DELETE',
      url: 'https://ci.example.com/jobs/staging',
      headers: { Authorization: 'Bearer s3cr3t', 'Content-Type': 'application/json' },
      body: '{"callbackUri": "https://relay.example/cb/tok", "reason": "withdrawn"}',
    });
  });

  it('is null for a webhook without a cancelTemplate', () => {
    expect(renderCancel(def(), vars)).toBeNull();
  });

  it('is signed like the call', () => {
    const signed = def({ cancel, signingSecret: '{{secrets.ci_token}}' });
    expect(renderCancel(signed, vars)?.signer?.source).toBe('{{secrets.ci_token}} (signingSecret of webhook Run-Tests)');
    expect(renderCancel(def({ cancel }), vars, { signingSecret: 'input-secret' })?.signer?.source).toBe('the webhook-signing-secret input');
    expect(renderCancel(def({ cancel, signingSecret: false }), vars, { signingSecret: 'input-secret' })?.signer).toBeUndefined();
  });
});

describe('signing secrets', () => {
  it("takes the webhook's signingSecret over the input, and signs nothing when neither is set", () => {
    expect(renderWebhook(def(), vars).signer).toBeUndefined();
    expect(renderWebhook(def(), vars, { signingSecret: null }).signer).toBeUndefined();
    expect(renderWebhook(def(), vars, { signingSecret: 'input-secret' }).signer?.source).toBe('the webhook-signing-secret input');
    const own = renderWebhook(def({ signingSecret: '{{ secrets.ci_token }}' }), vars, { signingSecret: 'input-secret' });
    expect(own.signer?.source).toBe('{{secrets.ci_token}} (signingSecret of webhook Run-Tests)');
  });

  it('sends a webhook with signingSecret: false unsigned even when the input is set', () => {
    expect(renderWebhook(def({ signingSecret: false }), vars, { signingSecret: 'input-secret' }).signer).toBeUndefined();
  });

  it('never shows the key when the request is logged or serialized', () => {
    const request = renderWebhook(def(), vars, { signingSecret: 'do-not-print-me' });
    expect(JSON.stringify(request)).not.toContain('do-not-print-me');
    expect(JSON.stringify(request)).toContain('[signing key from the webhook-signing-secret input]');
  });

  it('throws naming the secret, not its value, when it is unusable', () => {
    expect(() => renderWebhook(def({ signingSecret: '{{secrets.nope}}' }), vars)).toThrow(
      'the webhook signing secret from {{secrets.nope}} (signingSecret of webhook Run-Tests) has no value',
    );
    const badVars = (name: string) => (name === 'secrets.key' ? 'whsec_not base64!' : vars(name));
    expect(() => renderWebhook(def({ signingSecret: '{{secrets.key}}' }), badVars)).toThrow(/^the webhook signing secret from \{\{secrets\.key\}\} \(signingSecret of webhook Run-Tests\) starts with whsec_/);
  });

  it('checks every secret before anything runs, naming where each comes from', () => {
    const webhooks = {
      A: def({ name: 'A', signingSecret: '{{secrets.good}}' }),
      B: def({ name: 'B', signingSecret: '{{secrets.bad}}' }),
      C: def({ name: 'C', signingSecret: '{{secrets.empty}}' }),
      D: def({ name: 'D', signingSecret: false }),
      E: def({ name: 'E' }),
    };
    const secrets = { good: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', bad: 'whsec_abc', empty: '' };
    const problems = checkSigningSecrets(webhooks, secrets, 'whsec_%%%');
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^the webhook signing secret from the webhook-signing-secret input starts with whsec_, but what follows is not standard base64/);
    expect(problems[1]).toMatch(/^the webhook signing secret from \{\{secrets\.bad\}\} \(signingSecret of webhook B\) starts with whsec_/);
    expect(problems[2]).toBe('the webhook signing secret from {{secrets.empty}} (signingSecret of webhook C) is empty');
    expect(problems.join('\n')).not.toMatch(/whsec_abc|%%%/);
    expect(checkSigningSecrets(webhooks, { ...secrets, bad: 'raw secret', empty: 'x' }, null)).toEqual([]);
  });
});
