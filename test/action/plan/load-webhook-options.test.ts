import { describe, expect, it } from 'vitest';
import { planOf, errorsOf } from './helpers.ts';

describe('signingSecret', () => {
  const secret = (value: string) => `
    targets: { a: {} }
    webhooks:
      - name: A
        uriTemplate: https://a.example.com
        signingSecret: ${value}
  `;

  it('reads {{secrets.NAME}}, false, and nothing', () => {
    expect(planOf(secret('"{{secrets.ci_token}}"')).webhooks['A']?.signingSecret).toBe('{{secrets.ci_token}}');
    expect(planOf(secret("'{{ secrets.ci_token }}'")).webhooks['A']?.signingSecret).toBe('{{ secrets.ci_token }}');
    expect(planOf(secret('false')).webhooks['A']?.signingSecret).toBe(false);
    expect(planOf(secret('')).webhooks['A']?.signingSecret).toBeNull();
  });

  it('refuses a secret written in the file, without repeating it', () => {
    const errors = errorsOf(secret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'));
    expect(errors).toEqual([
      'deploy.yml:5:20: webhooks[0].signingSecret: a signing secret written in the deployment file would be committed to git with it; store it as a repository secret, pass it in the secrets input (secrets: ${{ toJSON(secrets) }}) and write signingSecret: "{{secrets.NAME}}"',
    ]);
    expect(errorsOf(secret('123456'))).toEqual(['deploy.yml:5:20: webhooks[0].signingSecret: expected "{{secrets.NAME}}" (in quotes) or false']);
    expect(errorsOf(secret('true'))).toEqual(['deploy.yml:5:20: webhooks[0].signingSecret: expected "{{secrets.NAME}}" (in quotes) or false']);
  });

  it('refuses anything but one secret, alone', () => {
    expect(errorsOf(secret('"whsec_{{secrets.ci_token}}"'))).toEqual([
      'deploy.yml:5:20: webhooks[0].signingSecret: must be exactly "{{secrets.NAME}}", one secret from the secrets input and nothing else: text around it would be committed to git as part of the secret',
    ]);
    const alone = 'deploy.yml:5:20: webhooks[0].signingSecret: must be exactly "{{secrets.NAME}}", one secret from the secrets input and nothing else';
    expect(errorsOf(secret('"{{secrets.ci_token}}{{secrets.ci_token}}"'))).toEqual([alone]);
    expect(errorsOf(secret('"{{github.sha}}"'))).toEqual([alone]);
    expect(errorsOf(secret('"{{ my secret }}"'))).toEqual([alone]);
    expect(errorsOf(secret('"{{secrets.ci_token"'))).toEqual([alone]);
    expect(errorsOf(secret('"  "'))).toEqual(['deploy.yml:5:20: webhooks[0].signingSecret: must not be empty; write "{{secrets.NAME}}", or false to send this webhook unsigned']);
  });

  it('rejects a secret the secrets input does not pass, like any other use', () => {
    expect(errorsOf(secret('"{{secrets.ci_tokn}}"'))).toEqual([
      "deploy.yml:5:20: webhooks[0].signingSecret: unknown template variable {{secrets.ci_tokn}}: the secrets input has no 'ci_tokn' (did you mean 'ci_token'?)",
    ]);
  });

  it('refuses the signature headers in the call and in the cancel request, since hookgate sets them', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          headers:
            - { key: Webhook-Signature, value: "v1,abc" }
          cancelTemplate:
            uriTemplate: https://a.example.com/cancel
            headers: [{ key: webhook-id, value: x }]
    `)).toEqual([
      'deploy.yml:6:16: webhooks[0].headers[0].key: Webhook-Signature is set by hookgate when it signs the request (signingSecret or the webhook-signing-secret input); remove this header',
      'deploy.yml:9:24: webhooks[0].cancelTemplate.headers[0].key: webhook-id is set by hookgate when it signs the request (signingSecret or the webhook-signing-secret input); remove this header',
    ]);
  });
});

describe('cancelTemplate', () => {
  it('reads every field, with the same defaults as the call', () => {
    const plan = planOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com/run
          cancelTemplate:
            method: delete
            uriTemplate: https://a.example.com/jobs/{{armory.environmentName}}
            headers:
              - { key: Authorization, value: "Bearer {{secrets.ci_token}}" }
            bodyTemplate: { inline: '{"callbackUri": "{{hookgate.callbackUri}}"}' }
        - name: B
          uriTemplate: https://b.example.com/run
          cancelTemplate: { uriTemplate: "https://b.example.com/cancel?cb={{armory.callbackUri}}" }
    `);
    expect(plan.webhooks['A']?.cancel).toEqual({
      method: 'DELETE',
      uriTemplate: 'https://a.example.com/jobs/{{armory.environmentName}}',
      headers: [{ key: 'Authorization', value: 'Bearer {{secrets.ci_token}}' }],
      bodyTemplate: '{"callbackUri": "{{hookgate.callbackUri}}"}',
    });
    expect(plan.webhooks['B']?.cancel).toEqual({ method: 'POST', uriTemplate: 'https://b.example.com/cancel?cb={{armory.callbackUri}}', headers: [], bodyTemplate: null });
  });

  it('reads bodyTemplate.path and checks the templates in that file', () => {
    const text = `
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          cancelTemplate:
            uriTemplate: https://a.example.com/cancel
            bodyTemplate: { path: bodies/cancel.json }
    `;
    const asked: string[] = [];
    const plan = planOf(text, {
      readFile: (path) => {
        asked.push(path);
        return '{"gate": "{{armory.callbackUri}}"}';
      },
    });
    expect(asked).toEqual(['bodies/cancel.json']);
    expect(plan.webhooks['A']?.cancel?.bodyTemplate).toBe('{"gate": "{{armory.callbackUri}}"}');
    expect(errorsOf(text, { readFile: () => '{"gate": "{{armory.callbackURI}}"}' })).toEqual([
      "deploy.yml:7:29: webhooks[0].cancelTemplate.bodyTemplate.path: in bodies/cancel.json: unknown template variable {{armory.callbackURI}} (did you mean 'armory.callbackUri'?)",
    ]);
    expect(errorsOf(text)).toEqual([
      "deploy.yml:7:29: webhooks[0].cancelTemplate.bodyTemplate.path: cannot read bodies/cancel.json (relative to the deployment file): ENOENT: no such file 'bodies/cancel.json'",
    ]);
  });

  it('rejects a missing uriTemplate, unknown fields and bad values, at their lines', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          cancelTemplate:
            method: PO ST
            uriTemplte: https://a.example.com/cancel
            retryCount: 2
            bodyTemplate: {}
        - name: B
          uriTemplate: https://b.example.com
          cancelTemplate: https://b.example.com/cancel
    `)).toEqual([
      'deploy.yml:6:7: webhooks[0].cancelTemplate.uriTemplate: required field missing',
      'deploy.yml:6:15: webhooks[0].cancelTemplate.method: expected an HTTP method such as POST',
      "deploy.yml:7:7: webhooks[0].cancelTemplate.uriTemplte: unknown field 'uriTemplte' (did you mean 'uriTemplate'?)",
      "deploy.yml:8:7: webhooks[0].cancelTemplate.retryCount: unknown field 'retryCount'",
      "deploy.yml:12:21: webhooks[1].cancelTemplate: expected a map, got the string 'https://b.example.com/cancel'",
    ]);
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          cancelTemplate: { uriTemplate: https://a.example.com, bodyTemplate: {} }
    `)).toEqual(['deploy.yml:5:73: webhooks[0].cancelTemplate.bodyTemplate: needs inline (the body itself) or path (a file holding it)']);
  });

  it('checks its templates like the call: variables, URL, syntax', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          cancelTemplate:
            uriTemplate: ftp://a.example.com/{{armory.callbackUrl}}
            headers: [{ key: X-Token, value: "{{secrets.nope}}" }]
            bodyTemplate: { inline: "{{ a b }}" }
    `)).toEqual([
      "deploy.yml:6:20: webhooks[0].cancelTemplate.uriTemplate: unknown template variable {{armory.callbackUrl}} (did you mean 'armory.callbackUri'?)",
      'deploy.yml:6:20: webhooks[0].cancelTemplate.uriTemplate: expected an http:// or https:// URL',
      "deploy.yml:7:40: webhooks[0].cancelTemplate.headers[0].value: unknown template variable {{secrets.nope}}: the secrets input has no 'nope'",
      "deploy.yml:8:31: webhooks[0].cancelTemplate.bodyTemplate.inline: '{{ a b }}' at offset 0 is not a variable name",
    ]);
  });

  it('checks its context keys at every runWebhook step, naming the cancel field', () => {
    expect(errorsOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - runWebhook: { name: A }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          cancelTemplate: { uriTemplate: "https://a.example.com/{{context.job}}" }
    `)).toEqual([
      "deploy.yml:5:11: targets.a.constraints.beforeDeployment[0].runWebhook: webhook 'A' uses {{context.job}} in cancelTemplate.uriTemplate, but neither this step's context, the file's context nor the context input sets job",
    ]);
  });
});
