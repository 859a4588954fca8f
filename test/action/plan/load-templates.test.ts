import { describe, expect, it } from 'vitest';
import { load, planOf, errorsOf } from './helpers.ts';

describe('templates', () => {
  const hook = (field: string) => `
    targets:
      a:
        constraints:
          beforeDeployment:
            - runWebhook: { name: A, context: { suite: smoke } }
    context: { team: payments }
    webhooks:
      - name: A
        ${field}
      - name: B
        uriTemplate: https://b.example.com/{{context.only_b}}
    `;

  it('accepts every kind of known variable', () => {
    const plan = planOf(hook(`uriTemplate: "https://x.example.com/{{ armory.environmentName }}/{{hookgate.approvalUrl}}/{{context.team}}/{{context.suite}}/{{context.region}}/{{secrets.ci_token}}/{{github.sha}}/{{hookgate.runUrl}}"`)
      .replace('{{context.only_b}}', 'b'), { inputContext: { region: 'eu' } });
    expect(plan.webhooks['A']?.uriTemplate).toContain('{{ armory.environmentName }}');
  });

  it('rejects an unknown built-in, suggesting the right one', () => {
    expect(errorsOf(hook('uriTemplate: https://x.example.com/{{armory.callbackURI}}/{{foo.bar}}').replace('{{context.only_b}}', 'b'))).toEqual([
      "deploy.yml:9:18: webhooks[0].uriTemplate: unknown template variable {{armory.callbackURI}} (did you mean 'armory.callbackUri'?)",
      'deploy.yml:9:18: webhooks[0].uriTemplate: unknown template variable {{foo.bar}}; use armory.*, hookgate.*, github.*, context.<key>, secrets.<name> or outputs.<webhook name>.<key>',
    ]);
  });

  it('rejects a secret that is not passed in the secrets input', () => {
    expect(errorsOf(hook('uriTemplate: "https://x.example.com/{{secrets.ci_tokn}}"').replace('{{context.only_b}}', 'b'))).toEqual([
      "deploy.yml:9:18: webhooks[0].uriTemplate: unknown template variable {{secrets.ci_tokn}}: the secrets input has no 'ci_tokn' (did you mean 'ci_token'?)",
    ]);
  });


  it('checks header values and the body, at their own lines', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          headers:
            - key: Authorization
              value: Bearer {{secrets.missing}}
          bodyTemplate:
            inline: |
              {"a": "{{github.shaa}}",
               "b": "{{ github.runId }}"}
    `)).toEqual([
      "deploy.yml:7:16: webhooks[0].headers[0].value: unknown template variable {{secrets.missing}}: the secrets input has no 'missing'",
      "deploy.yml:9:15: webhooks[0].bodyTemplate.inline: unknown template variable {{github.shaa}} (did you mean 'github.sha'?)",
    ]);
  });

  it('rejects an unclosed {{ and a malformed name', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: "https://a.example.com/{{armory.deploymentId"
          bodyTemplate: { inline: "{{ a b }}" }
    `)).toEqual([
      "deploy.yml:4:18: webhooks[0].uriTemplate: '{{' at offset 22 has no closing '}}'",
      "deploy.yml:5:29: webhooks[0].bodyTemplate.inline: '{{ a b }}' at offset 0 is not a variable name",
    ]);
  });

  it('requires the uriTemplate to be an http(s) URL when its start is literal', () => {
    const uri = (value: string) => `targets: { a: {} }\nwebhooks:\n  - name: A\n    uriTemplate: "${value}"\n`;
    expect(load(uri('{{secrets.ci_token}}')).ok).toBe(true);
    expect(load(uri('https://{{secrets.ci_token}}/x')).ok).toBe(true);
    expect(load(uri('HTTP://a.example.com')).ok).toBe(true);
    expect(load(uri('ht{{secrets.ci_token}}')).ok).toBe(true);
    expect(errorsOf(uri('ftp://a.example.com'))).toEqual(['deploy.yml:4:18: webhooks[0].uriTemplate: expected an http:// or https:// URL']);
    expect(errorsOf(uri('a.example.com/{{secrets.ci_token}}'))).toEqual(['deploy.yml:4:18: webhooks[0].uriTemplate: expected an http:// or https:// URL']);
  });
});

describe('context keys, per runWebhook step', () => {
  const usedTwice = (extra = '') => `
    ${extra}
    targets:
      staging:
        constraints:
          afterDeployment:
            - runWebhook: { name: Run-Tests, context: { suite: smoke } }
      prod:
        constraints:
          afterDeployment:
            - runWebhook: { name: Run-Tests }
    webhooks:
      - name: Run-Tests
        uriTemplate: https://ci.example.com/run/{{ context.suite }}
    `;

  it('reports a use that lacks a key another use of the same webhook sets, once, at that use', () => {
    expect(errorsOf(usedTwice())).toEqual([
      "deploy.yml:10:11: targets.prod.constraints.afterDeployment[0].runWebhook: webhook 'Run-Tests' uses {{context.suite}} in uriTemplate, but neither this step's context, the file's context nor the context input sets suite",
    ]);
  });

  it("takes the key from the file's context", () => {
    expect(planOf(usedTwice('context: { suite: full }')).targets.map((t) => t.name)).toEqual(['staging', 'prod']);
  });

  it('takes the key from the context input', () => {
    expect(planOf(usedTwice(), { inputContext: { suite: 'full' } }).targets.map((t) => t.name)).toEqual(['staging', 'prod']);
  });

  it('checks canary steps, both blue/green lists and beforeDeployment, naming every field that uses the key', () => {
    expect(errorsOf(`
      context: { team: payments }
      targets:
        a:
          strategy: c
          constraints:
            beforeDeployment:
              - runWebhook: { name: H, context: { regoin: eu } }
        b: { strategy: bg }
      strategies:
        c:
          canary:
            steps:
              - runWebhook: { name: H }
        bg:
          blueGreen:
            redirectTrafficAfter:
              - runWebhook: { name: H, context: { region: eu } }
            shutDownOldVersionAfter:
              - runWebhook:
                  name: H
      webhooks:
        - name: H
          uriTemplate: https://h.example.com/{{context.region}}
          headers: [{ key: X-Team, value: "{{context.team}}" }]
          bodyTemplate: { path: body.json }
    `, { readFile: () => '{"region": "{{context.region}}"}' })).toEqual([
      "deploy.yml:7:11: targets.a.constraints.beforeDeployment[0].runWebhook: webhook 'H' uses {{context.region}} in uriTemplate and bodyTemplate.path (body.json), but neither this step's context, the file's context nor the context input sets region (did you mean 'regoin'?)",
      "deploy.yml:13:11: strategies.c.canary.steps[0].runWebhook: webhook 'H' uses {{context.region}} in uriTemplate and bodyTemplate.path (body.json), but neither this step's context, the file's context nor the context input sets region",
      "deploy.yml:19:11: strategies.bg.blueGreen.shutDownOldVersionAfter[0].runWebhook: webhook 'H' uses {{context.region}} in uriTemplate and bodyTemplate.path (body.json), but neither this step's context, the file's context nor the context input sets region",
    ]);
  });

  it("skips the context keys of a webhook nobody uses, but still checks its other names", () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: Unused
          uriTemplate: https://u.example.com/{{context.anything}}/{{secrets.nope}}
    `)).toEqual([
      "deploy.yml:4:18: webhooks[0].uriTemplate: unknown template variable {{secrets.nope}}: the secrets input has no 'nope'",
    ]);
  });
});
