import { describe, expect, it } from 'vitest';
import { errorsOf, loc, planOf } from './helpers.ts';

const RESPONSE_NAMES = 'response.location, response.locationId or response.body.<key>(.<key>|.<index>)*';

describe('heartbeatTimeout', () => {
  it('reads it as seconds; without it, null', () => {
    const plan = planOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          heartbeatTimeout: { duration: 5, unit: minutes }
        - name: B
          uriTemplate: https://b.example.com
    `);
    expect(plan.webhooks['A']?.heartbeatSeconds).toBe(300);
    expect(plan.webhooks['B']?.heartbeatSeconds).toBeNull();
  });

  it('refuses it where nothing is heard, and beyond the timeout', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          disableCallback: true
          heartbeatTimeout: { duration: 5, unit: minutes }
        - name: B
          uriTemplate: https://b.example.com
          heartbeatTimeout: { duration: 5, unit: minutes }
          monitor: { uriTemplate: https://b.example.com/status, statusPath: $.state, success: [done] }
        - name: C
          uriTemplate: https://c.example.com
          timeout: { duration: 1, unit: hours }
          heartbeatTimeout: { duration: 61, unit: minutes }
        - name: D
          uriTemplate: https://d.example.com
          heartbeatTimeout: { duration: 25, unit: hours }
        - name: E
          uriTemplate: https://e.example.com
          heartbeatTimeout: { duration: 0, unit: seconds }
    `)).toEqual([
      'deploy.yml:6:5: webhooks[0].heartbeatTimeout: a webhook with disableCallback: true awaits nothing, so there is no silence to time; remove heartbeatTimeout or disableCallback',
      'deploy.yml:9:5: webhooks[1].heartbeatTimeout: a monitored webhook is polled, not heard from; remove heartbeatTimeout or monitor',
      "deploy.yml:14:23: webhooks[2].heartbeatTimeout: must be at most the webhook's timeout (1h); a longer silence would never be noticed",
      "deploy.yml:17:23: webhooks[3].heartbeatTimeout: must be at most the webhook's timeout (24h); a longer silence would never be noticed",
      'deploy.yml:20:23: webhooks[4].heartbeatTimeout: must be longer than 0 seconds',
    ]);
  });

  it('accepts one as long as the timeout', () => {
    const plan = planOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          timeout: { duration: 1, unit: hours }
          heartbeatTimeout: { duration: 60, unit: minutes }
    `);
    expect(plan.webhooks['A']?.heartbeatSeconds).toBe(3600);
  });
});

describe('monitor', () => {
  it('reads every field, with GET and 30 seconds as defaults, values as text without repeats', () => {
    const plan = planOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          monitor:
            uriTemplate: https://a.example.com/status
            statusPath: $.state
            success: [done, 1, true, done]
            failure: [false]
        - name: B
          uriTemplate: https://b.example.com
          monitor:
            method: post
            uriTemplate: https://b.example.com/graphql
            headers: [{ key: Content-Type, value: application/json }]
            bodyTemplate: { path: status-query.json }
            interval: { duration: 1, unit: minutes }
            statusPath: $.data.run.state
            success: [OK]
    `, { readFile: (path) => (path === 'status-query.json' ? '{"query": "{{response.body.id}}"}' : '') });
    expect(plan.webhooks['A']?.monitor).toEqual({
      method: 'GET', uriTemplate: 'https://a.example.com/status', headers: [], bodyTemplate: null,
      intervalSeconds: 30, statusPath: '$.state', success: ['done', '1', 'true'], failure: ['false'], location: loc(6, 7),
    });
    expect(plan.webhooks['B']?.monitor).toEqual({
      method: 'POST', uriTemplate: 'https://b.example.com/graphql', headers: [{ key: 'Content-Type', value: 'application/json' }],
      bodyTemplate: '{"query": "{{response.body.id}}"}', intervalSeconds: 60, statusPath: '$.data.run.state', success: ['OK'], failure: [], location: loc(13, 7),
    });
    expect(plan.webhooks['A']?.method).toBe('POST');
  });

  it('rejects missing and bad fields, a value in both lists and a monitor that nothing stores, all at once', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          monitor:
            method: HEAD
            statusPath: ''
            success: []
            failure: [ok, {x: 1}]
            interval: { duration: 4, unit: seconds }
            pollEvery: 5
        - name: B
          uriTemplate: https://b.example.com
          disableCallback: true
          monitor: { uriTemplate: https://b.example.com/s, statusPath: $.s, success: [ok, 1, true], failure: [failed, ok, 'true'] }
        - name: C
          uriTemplate: https://c.example.com
          monitor: [x]
        - name: D
          uriTemplate: https://d.example.com
          monitor: { method: head, uriTemplate: https://d.example.com/s, statusPath: $.s, success: [ok] }
    `)).toEqual([
      'deploy.yml:6:7: webhooks[0].monitor.uriTemplate: required field missing',
      'deploy.yml:7:19: webhooks[0].monitor.statusPath: must not be empty',
      'deploy.yml:8:16: webhooks[0].monitor.success: needs at least 1 item(s)',
      'deploy.yml:9:21: webhooks[0].monitor.failure[1]: expected a string, number or true/false, got a map',
      'deploy.yml:10:17: webhooks[0].monitor.interval: must be at least 5 seconds',
      "deploy.yml:11:7: webhooks[0].monitor.pollEvery: unknown field 'pollEvery'",
      "deploy.yml:15:5: webhooks[1].monitor: a monitor's decision is stored with the gate, which disableCallback: true does not have; remove one of them",
      "deploy.yml:15:113: webhooks[1].monitor.failure[1]: 'ok' is also a success value; a status value can decide only one way",
      "deploy.yml:15:117: webhooks[1].monitor.failure[2]: 'true' is also a success value; a status value can decide only one way",
      'deploy.yml:18:14: webhooks[2].monitor: expected a map, got a list',
      'deploy.yml:21:24: webhooks[3].monitor.method: a HEAD answer has no body to read statusPath from; use GET (the default) or POST',
    ]);
  });

  it('checks statusPath as a JSONPath, with jsonpath-plus, after its variables', () => {
    const monitored = (name: string, statusPath: string): string => `
        - name: ${name}
          uriTemplate: https://a.example.com
          monitor: { uriTemplate: https://a.example.com/s, statusPath: '${statusPath}', success: [ok] }`;
    const text = `targets: { a: {} }\nwebhooks:${[
      monitored('A', 'state'),
      monitored('B', '$.jobs[0'),
      monitored('C', '$.jobs[?(@.id==)].state'),
      monitored('D', '$.{{github.ref}}[?(@.id=="{{response.body.id}}")].state'),
      monitored('E', '$.a[{{github.nope}}'),
      monitored('F', '$.'),
      monitored('G', '$.jobs[?(@.id=={{response.locationId}})].result'),
      monitored('H', '$.a]'),
    ].join('')}\n`;
    expect(errorsOf(text)).toEqual([
      'deploy.yml:5:72: webhooks[0].monitor.statusPath: not a usable JSONPath: must start with $ (the root of the status answer), as in $.result',
      "deploy.yml:8:72: webhooks[1].monitor.statusPath: not a usable JSONPath: '[' at offset 6 is never closed",
      'deploy.yml:11:72: webhooks[2].monitor.statusPath: not a usable JSONPath: the expression ?(@.id==) is not valid: Expected expression after == at character 9',
      `deploy.yml:17:72: webhooks[4].monitor.statusPath: unknown template variable {{github.nope}}; use armory.*, hookgate.*, github.*, context.<key>, secrets.<name> or outputs.<webhook name>.<key>, or in a monitor ${RESPONSE_NAMES}`,
      'deploy.yml:20:72: webhooks[5].monitor.statusPath: not a usable JSONPath: ends with a dot; name a field after it, as in $.result',
      "deploy.yml:26:72: webhooks[7].monitor.statusPath: not a usable JSONPath: ']' at offset 3 closes nothing",
    ]);
  });

  it("lets only a monitor's templates use the call's answer, and checks those names", () => {
    expect(errorsOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - runWebhook: { name: A }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com/{{response.location}}
          headers: [{ key: X-Id, value: "{{response.body.id}}" }]
          cancelTemplate: { uriTemplate: "https://a.example.com/cancel/{{response.locationId}}" }
          monitor:
            uriTemplate: "{{response.location}}"
            headers: [{ key: X-Id, value: "{{response.body.items.0.id}}" }]
            bodyTemplate: { inline: '{"id": "{{response.locationId}}", "x": "{{response.status}}", "y": "{{response.body.}}"}' }
            statusPath: $.state
            success: [ok]
    `)).toEqual([
      "deploy.yml:8:18: webhooks[0].uriTemplate: {{response.location}}: only a monitor can use the call's answer; use it in the webhook's monitor",
      "deploy.yml:9:35: webhooks[0].headers[0].value: {{response.body.id}}: only a monitor can use the call's answer; use it in the webhook's monitor",
      "deploy.yml:10:36: webhooks[0].cancelTemplate.uriTemplate: {{response.locationId}}: only a monitor can use the call's answer; use it in the webhook's monitor",
      `deploy.yml:14:31: webhooks[0].monitor.bodyTemplate.inline: unknown template variable {{response.status}}; a monitor's answer is ${RESPONSE_NAMES}`,
      `deploy.yml:14:31: webhooks[0].monitor.bodyTemplate.inline: unknown template variable {{response.body.}}; a monitor's answer is ${RESPONSE_NAMES}`,
    ]);
  });

  it("checks the context keys of a monitor's templates at each step, like the call's", () => {
    expect(errorsOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - runWebhook: { name: A, context: { app: x } }
              - runWebhook: { name: A }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          monitor: { uriTemplate: "https://a.example.com/{{context.app}}", statusPath: $.s, success: [ok] }
    `)).toEqual([
      "deploy.yml:6:11: targets.a.constraints.beforeDeployment[1].runWebhook: webhook 'A' uses {{context.app}} in monitor.uriTemplate, but neither this step's context, the file's context nor the context input sets app",
    ]);
  });
});
