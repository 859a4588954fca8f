import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workspaceFileReader } from '../../../action/clients/workspace-files.ts';
import { loadDeploymentFile } from '../../../action/plan/load.ts';
import { planOf, errorsOf, loc, WEBHOOK } from './helpers.ts';

describe('webhooks', () => {
  it('fills in the defaults', () => {
    const plan = planOf('targets: { a: {} }\n' + WEBHOOK);
    expect(plan.webhooks).toEqual({
      'Run-Tests': {
        name: 'Run-Tests',
        method: 'POST',
        uriTemplate: 'https://ci.example.com/run',
        headers: [],
        bodyTemplate: null,
        retryCount: 0,
        disableCallback: false,
        timeoutSeconds: 86400,
        cancel: null,
        signingSecret: null,
        heartbeatSeconds: null,
        monitor: null,
        location: loc(4, 5),
      },
    });
  });

  it('reads every field', () => {
    const plan = planOf(`
      targets: { a: {} }
      webhooks:
        - name: Update Database Schema
          method: put
          uriTemplate: https://ci.example.com/hooks/migrate?env={{armory.environmentName}}
          headers:
            - { key: Authorization, value: "Bearer {{secrets.ci_token}}" }
            - { key: X-Attempt, value: 3 }
          bodyTemplate:
            inline: '{"callbackUri": "{{armory.callbackUri}}/callback"}'
          retryCount: 3
          disableCallback: true
          timeout: { duration: 2, unit: hours }
          networkMode: direct
          agentIdentifier: my-agent
    `);
    expect(plan.webhooks['Update Database Schema']).toEqual({
      name: 'Update Database Schema',
      method: 'PUT',
      uriTemplate: 'https://ci.example.com/hooks/migrate?env={{armory.environmentName}}',
      headers: [
        { key: 'Authorization', value: 'Bearer {{secrets.ci_token}}' },
        { key: 'X-Attempt', value: '3' },
      ],
      bodyTemplate: '{"callbackUri": "{{armory.callbackUri}}/callback"}',
      retryCount: 3,
      disableCallback: true,
      timeoutSeconds: 7200,
      cancel: null,
      signingSecret: null,
      heartbeatSeconds: null,
      monitor: null,
      location: loc(3, 5),
    });
    expect(plan.notices).toEqual([
      'webhooks[0].networkMode is ignored: the runner itself is inside your network (deploy.yml:14:5)',
      'webhooks[0].agentIdentifier is ignored: the runner itself is inside your network (deploy.yml:15:5)',
    ]);
  });

  it('rejects a duplicate name, pointing at the first one', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: Run-Tests
          uriTemplate: https://a.example.com
        - name: Run-Tests
          uriTemplate: https://b.example.com
    `)).toEqual([
      "deploy.yml:5:11: webhooks[1].name: webhook 'Run-Tests' is already defined at webhooks[0] (deploy.yml:3:5); names must be unique",
    ]);
  });

  it('rejects missing and mistyped fields, all at once', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          method: PO ST
          uriTemplte: https://a.example.com
          retryCount: 11
          disableCallback: yes
        - name: B
          uriTemplate: https://b.example.com
          retryCount: 1.5
          headers:
            - { key: "Bad Header", value: x }
            - { key: X-Ok, value: [1] }
            - { key: X-Ok, val: 1 }
        - uriTemplate: https://c.example.com
          retryCount: -1
        - just-a-name
      `)).toEqual([
      'deploy.yml:3:5: webhooks[0].uriTemplate: required field missing',
      'deploy.yml:4:13: webhooks[0].method: expected an HTTP method such as POST',
      "deploy.yml:5:5: webhooks[0].uriTemplte: unknown field 'uriTemplte' (did you mean 'uriTemplate'?)",
      'deploy.yml:6:17: webhooks[0].retryCount: must be at most 10, got the number 11',
      "deploy.yml:7:22: webhooks[0].disableCallback: expected true or false, got the string 'yes'",
      'deploy.yml:10:17: webhooks[1].retryCount: expected a whole number, got the number 1.5',
      'deploy.yml:12:16: webhooks[1].headers[0].key: expected an HTTP header name',
      'deploy.yml:13:29: webhooks[1].headers[1].value: expected a string, number or true/false, got a list',
      'deploy.yml:14:9: webhooks[1].headers[2].value: required field missing',
      "deploy.yml:14:22: webhooks[1].headers[2].val: unknown field 'val' (did you mean 'value'?)",
      'deploy.yml:15:5: webhooks[2].name: required field missing',
      'deploy.yml:16:17: webhooks[2].retryCount: must be at least 0, got the number -1',
      "deploy.yml:17:5: webhooks[3]: expected a map, got the string 'just-a-name'",
    ]);
    expect(errorsOf('targets: { a: {} }\nwebhooks: { name: x }\n')).toEqual(['deploy.yml:2:11: webhooks: expected a list of webhooks, got a map']);
  });

  it('limits the timeout to 30 days', () => {
    const at = (timeout: string) => `
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          timeout: ${timeout}
    `;
    expect(planOf(at('{ duration: 720, unit: hours }')).webhooks['A']?.timeoutSeconds).toBe(2592000);
    expect(planOf(at('{ duration: 90, units: minutes }')).webhooks['A']?.timeoutSeconds).toBe(5400);
    expect(errorsOf(at('{ duration: 721, unit: hours }'))).toEqual(['deploy.yml:5:14: webhooks[0].timeout: must be at most 30 days (720 hours)']);
    expect(errorsOf(at('{ duration: 0, unit: hours }'))).toEqual(['deploy.yml:5:14: webhooks[0].timeout: must be longer than 0 seconds']);
    expect(errorsOf(at('{ duration: 1, unit: weeks }'))).toEqual(["deploy.yml:5:35: webhooks[0].timeout.unit: unknown unit 'weeks'; use seconds, minutes or hours"]);
  });

  it('keeps a folded >- body as YAML folds it', () => {
    const plan = planOf(`
      targets: { a: {} }
      webhooks:
        - name: Check Logs
          uriTemplate: https://api.github.com/repos/o/r/dispatches
          bodyTemplate:
            inline: >-
              {"event_type": "checkLogs",
              "client_payload": {"callbackUri": "{{armory.callbackUri}}/callback"}}
    `);
    expect(plan.webhooks['Check Logs']?.bodyTemplate).toBe(
      '{"event_type": "checkLogs", "client_payload": {"callbackUri": "{{armory.callbackUri}}/callback"}}',
    );
  });

  it('reads bodyTemplate.path as written, relative to the deployment file', () => {
    const asked: string[] = [];
    const plan = planOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          bodyTemplate: { path: bodies/a.json }
    `, {
      readFile: (path) => {
        asked.push(path);
        return '{"cb": "{{ armory.callbackUri }}"}';
      },
    });
    expect(asked).toEqual(['bodies/a.json']);
    expect(plan.webhooks['A']?.bodyTemplate).toBe('{"cb": "{{ armory.callbackUri }}"}');
  });

  it('reads bodyTemplate.path from the workspace, and turns a missing file into an error at its line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookgate-deploy-'));
    try {
      writeFileSync(join(dir, 'body.json'), '{"sha": "{{github.sha}}"}');
      const text = 'targets: { a: {} }\nwebhooks:\n  - name: A\n    uriTemplate: https://a.example.com\n    bodyTemplate: { path: body.json }\n';
      const options = { file: 'deploy.yml', secretNames: new Set<string>(), inputContext: {}, defaultApplication: 'x', readFile: workspaceFileReader(dir, 'deploy.yml') };
      const result = loadDeploymentFile({ ...options, text });
      expect(result.ok && result.plan.webhooks['A']?.bodyTemplate).toBe('{"sha": "{{github.sha}}"}');
      const missing = loadDeploymentFile({ ...options, text: text.replace('body.json', 'nope.json') });
      expect(missing.ok).toBe(false);
      if (!missing.ok) {
        expect(missing.errors).toHaveLength(1);
        expect(missing.errors[0]).toMatchObject({ line: 5, col: 27, path: 'webhooks[0].bodyTemplate.path' });
        expect(missing.errors[0]?.message).toMatch(/^cannot read nope\.json \(relative to the deployment file\): ENOENT/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks the templates in a body file', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          bodyTemplate: { path: body.json }
    `, { readFile: () => '{"x": "{{armory.callbackUrl}}"}' })).toEqual([
      "deploy.yml:5:27: webhooks[0].bodyTemplate.path: in body.json: unknown template variable {{armory.callbackUrl}} (did you mean 'armory.callbackUri'?)",
    ]);
  });

  it('rejects a bodyTemplate with both or neither of inline and path', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          bodyTemplate: { inline: x, path: y }
        - name: B
          uriTemplate: https://b.example.com
          bodyTemplate: {}
        - name: C
          uriTemplate: https://c.example.com
          bodyTemplate: { inline: { a: 1 } }
    `)).toEqual([
      'deploy.yml:5:19: webhooks[0].bodyTemplate: give either inline or path, not both',
      'deploy.yml:8:19: webhooks[1].bodyTemplate: needs inline (the body itself) or path (a file holding it)',
      'deploy.yml:11:29: webhooks[2].bodyTemplate.inline: expected a string, got a map',
    ]);
  });
});
