import { describe, expect, it } from 'vitest';
import { errorsOf, planOf } from './helpers.ts';

describe('{{outputs.<step>.<key>}}', () => {
  it('is accepted where an earlier stage of the same target produces it, strategies included', () => {
    const plan = planOf(`
      targets:
        prod:
          strategy: canary
          constraints:
            beforeDeployment:
              - runWebhook: { name: Run-Tests }
              - pause: { untilApproved: true }
            afterDeployment:
              - runWebhook: { name: Announce }
      strategies:
        canary:
          canary:
            steps:
              - runWebhook: { name: Promote }
              - runWebhook: { name: Promote }
      webhooks:
        - name: Run-Tests
          uriTemplate: https://ci.example.com/run
        - name: Promote
          uriTemplate: https://deploy.example.com/promote/{{outputs.Run-Tests.build}}?by={{outputs.approval.approvedBy}}
        - name: Announce
          uriTemplate: https://chat.example.com/post
          bodyTemplate: { inline: '{"text": "{{outputs.approval.decision}}: {{outputs.approval.comment}} {{outputs.Promote.url}}"}' }
    `);
    expect(plan.webhooks['Promote']?.uriTemplate).toBe('https://deploy.example.com/promote/{{outputs.Run-Tests.build}}?by={{outputs.approval.approvedBy}}');
  });

  it('is an error at each step whose target runs no producer before it, for each target of a strategy', () => {
    expect(errorsOf(`
      targets:
        staging:
          strategy: canary
          constraints:
            beforeDeployment:
              - runWebhook: { name: Run-Tests }
              - runWebhook: { name: Promote }
        prod:
          strategy: canary
          constraints:
            beforeDeployment:
              - pause: { untilApproved: true }
            afterDeployment:
              - runWebhook: { name: Promote }
              - runWebhook: { name: Announce }
      strategies:
        canary:
          canary:
            steps:
              - runWebhook: { name: Promote }
              - runWebhook: { name: Run-Tests }
              - runWebhook: { name: Announce }
      webhooks:
        - name: Run-Tests
          uriTemplate: https://ci.example.com/run
        - name: Promote
          uriTemplate: https://deploy.example.com/promote
          bodyTemplate: { inline: '{"build": "{{outputs.Run-Tests.build}}"}' }
        - name: Announce
          uriTemplate: https://chat.example.com/post?by={{outputs.approval.approvedBy}}
          disableCallback: true
    `)).toEqual([
      "deploy.yml:7:11: targets.staging.constraints.beforeDeployment[1].runWebhook: webhook 'Promote' uses {{outputs.Run-Tests.build}} in bodyTemplate.inline, but no step of target staging before this one runs webhook Run-Tests (items of one list run in parallel)",
      "deploy.yml:20:11: strategies.canary.canary.steps[0].runWebhook: webhook 'Promote' uses {{outputs.Run-Tests.build}} in bodyTemplate.inline, but no step of target prod before this one runs webhook Run-Tests (it runs only after this one)",
      "deploy.yml:22:11: strategies.canary.canary.steps[2].runWebhook: webhook 'Announce' uses {{outputs.approval.approvedBy}} in uriTemplate, but no step of target staging before this one is a pause with untilApproved: true",
    ]);
  });

  it('orders blue/green lists, splits a dotted webhook name at its last dot, and names every field that uses it', () => {
    expect(errorsOf(`
      targets:
        a:
          strategy: bg
          constraints:
            beforeDeployment:
              - runWebhook: { name: Build.v2 }
            afterDeployment:
              - runWebhook: { name: Use }
        b:
          strategy: bg
      strategies:
        bg:
          blueGreen:
            redirectTrafficAfter:
              - runWebhook: { name: Use }
            shutDownOldVersionAfter:
              - runWebhook: { name: Use }
              - runWebhook: { name: Check }
      webhooks:
        - name: Build.v2
          uriTemplate: https://ci.example.com/run
        - name: Check
          uriTemplate: https://ci.example.com/check
        - name: Use
          uriTemplate: https://u.example.com/{{outputs.Build.v2.image}}
          cancelTemplate: { uriTemplate: "https://u.example.com/cancel/{{outputs.Check.id}}" }
          monitor: { uriTemplate: "https://u.example.com/s/{{outputs.Build.v2.image}}", statusPath: $.s, success: [ok] }
    `)).toEqual([
      "deploy.yml:15:11: strategies.bg.blueGreen.redirectTrafficAfter[0].runWebhook: webhook 'Use' uses {{outputs.Build.v2.image}} in uriTemplate and monitor.uriTemplate, but no step of target b before this one runs webhook Build.v2",
      "deploy.yml:15:11: strategies.bg.blueGreen.redirectTrafficAfter[0].runWebhook: webhook 'Use' uses {{outputs.Check.id}} in cancelTemplate.uriTemplate, but no step of target a before this one runs webhook Check (it runs only after this one)",
      "deploy.yml:15:11: strategies.bg.blueGreen.redirectTrafficAfter[0].runWebhook: webhook 'Use' uses {{outputs.Check.id}} in cancelTemplate.uriTemplate, but no step of target b before this one runs webhook Check (it runs only after this one)",
      "deploy.yml:17:11: strategies.bg.blueGreen.shutDownOldVersionAfter[0].runWebhook: webhook 'Use' uses {{outputs.Build.v2.image}} in uriTemplate and monitor.uriTemplate, but no step of target b before this one runs webhook Build.v2",
      "deploy.yml:17:11: strategies.bg.blueGreen.shutDownOldVersionAfter[0].runWebhook: webhook 'Use' uses {{outputs.Check.id}} in cancelTemplate.uriTemplate, but no step of target a before this one runs webhook Check (items of one list run in parallel)",
      "deploy.yml:17:11: strategies.bg.blueGreen.shutDownOldVersionAfter[0].runWebhook: webhook 'Use' uses {{outputs.Check.id}} in cancelTemplate.uriTemplate, but no step of target b before this one runs webhook Check (items of one list run in parallel)",
    ]);
  });

  it('rejects malformed names, unknown steps and keys, and webhooks that return nothing, at the template', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com/{{outputs.B}}/{{outputs.Nope.x}}/{{outputs.approval.decison}}/{{outputs.Notify.x}}/{{outputs.Run-Test.x}}/{{outputs.B.1x}}
        - name: Notify
          uriTemplate: https://n.example.com
          disableCallback: true
        - name: Run-Tests
          uriTemplate: https://ci.example.com/run
    `)).toEqual([
      'deploy.yml:4:18: webhooks[0].uriTemplate: {{outputs.B}} is not an output: write {{outputs.<webhook name>.<key>}} or {{outputs.approval.<key>}}, a key being letters, digits, _ and -',
      'deploy.yml:4:18: webhooks[0].uriTemplate: {{outputs.Nope.x}}: no webhook is named Nope; write {{outputs.<webhook name>.<key>}}',
      "deploy.yml:4:18: webhooks[0].uriTemplate: {{outputs.approval.decison}}: an approval's outputs are decision, comment, approvedBy (did you mean 'decision'?)",
      'deploy.yml:4:18: webhooks[0].uriTemplate: {{outputs.Notify.x}}: webhook Notify has disableCallback: true, so no decision and no outputs come back from it',
      "deploy.yml:4:18: webhooks[0].uriTemplate: {{outputs.Run-Test.x}}: no webhook is named Run-Test (did you mean 'Run-Tests'?); write {{outputs.<webhook name>.<key>}}",
      'deploy.yml:4:18: webhooks[0].uriTemplate: {{outputs.B.1x}} is not an output: write {{outputs.<webhook name>.<key>}} or {{outputs.approval.<key>}}, a key being letters, digits, _ and -',
    ]);
  });

  it('does not check the outputs of a strategy no target uses: no run of it exists', () => {
    const plan = planOf(`
      targets: { a: {} }
      strategies:
        unused: { canary: { steps: [{ runWebhook: { name: Use } }] } }
      webhooks:
        - name: Build
          uriTemplate: https://ci.example.com/run
        - name: Use
          uriTemplate: https://u.example.com/{{outputs.Build.image}}
    `);
    expect(Object.keys(plan.webhooks)).toEqual(['Build', 'Use']);
  });
});
