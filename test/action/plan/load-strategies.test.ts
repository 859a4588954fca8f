import { describe, expect, it } from 'vitest';
import { ANYONE, planOf, errorsOf, loc, withWebhook } from './helpers.ts';

describe('strategies', () => {
  it('reads a canary strategy in order, skipping exposeServices with a notice', () => {
    const plan = planOf(withWebhook(`
      targets:
        prod: { strategy: canary-with-checks }
      strategies:
        canary-with-checks:
          canary:
            steps:
              - setWeight: { weight: 25 }
              - exposeServices: { services: [svc], ttl: { duration: 30, unit: minutes } }
              - runWebhook: { name: Run-Tests }
              - pause: { duration: 30, unit: seconds }
              - pause: { untilApproved: true }
              - setWeight: { weight: 100 }
    `));
    expect(plan.targets[0]?.strategy).toEqual({
      kind: 'canary',
      name: 'canary-with-checks',
      steps: [
        { kind: 'setWeight', weight: 25, location: loc(7, 11) },
        { kind: 'webhook', webhook: 'Run-Tests', context: {}, location: loc(9, 11) },
        { kind: 'pause', seconds: 30, location: loc(10, 11) },
        { kind: 'approval', expirationSeconds: null, roles: [], ...ANYONE, location: loc(11, 11) },
        { kind: 'setWeight', weight: 100, location: loc(12, 11) },
      ],
    });
    expect(plan.notices).toEqual([
      'strategies.canary-with-checks.canary.steps[1].exposeServices is a Kubernetes field and is ignored (deploy.yml:8:11)',
    ]);
  });

  it('rejects weights outside 0..100 or not whole', () => {
    expect(errorsOf(`
      targets: { a: {} }
      strategies:
        s:
          canary:
            steps:
              - setWeight: { weight: 101 }
              - setWeight: { weight: 12.5 }
              - setWeight: { weight: '25' }
              - setWeight: {}
              - setWeight: { weight: 0 }
    `)).toEqual([
      'deploy.yml:6:32: strategies.s.canary.steps[0].setWeight.weight: must be at most 100, got the number 101',
      'deploy.yml:7:32: strategies.s.canary.steps[1].setWeight.weight: expected a whole number, got the number 12.5',
      "deploy.yml:8:32: strategies.s.canary.steps[2].setWeight.weight: expected a number, got the string '25'",
      'deploy.yml:9:22: strategies.s.canary.steps[3].setWeight.weight: required field missing',
    ]);
  });

  it('rejects analysis steps with a hint', () => {
    expect(errorsOf(`
      targets: { a: {} }
      strategies:
        s:
          canary:
            steps:
              - analysis:
                  queries: [error-rate]
    `)).toEqual([
      'deploy.yml:6:11: strategies.s.canary.steps[0].analysis: analysis steps are not supported; call your analysis service with a runWebhook step instead',
    ]);
  });

  it('names the webhook user as the strategy', () => {
    expect(errorsOf(`
      targets: { a: {} }
      strategies:
        s:
          canary:
            steps: [{ runWebhook: { name: Health } }]
    `)).toEqual([
      "deploy.yml:5:37: strategies.s.canary.steps[0].runWebhook.name: webhook 'Health' is used by strategy s but not defined under webhooks",
    ]);
  });

  it('reads blue/green with both spellings of shutDownOldVersionAfter', () => {
    for (const spelling of ['shutDownOldVersionAfter', 'shutdownOldVersionAfter']) {
      const plan = planOf(withWebhook(`
        targets: { prod: { strategy: bg } }
        strategies:
          bg:
            blueGreen:
              activeService: app-active
              previewService: app-preview
              redirectTrafficAfter:
                - runWebhook: { name: Run-Tests }
                - pause: { untilApproved: true }
              ${spelling}:
                - pause: { duration: 1, unit: hours }
      `));
      expect(plan.targets[0]?.strategy).toEqual({
        kind: 'blueGreen',
        name: 'bg',
        redirectTrafficAfter: [
          { kind: 'webhook', webhook: 'Run-Tests', context: {}, location: loc(8, 11) },
          { kind: 'approval', expirationSeconds: null, roles: [], ...ANYONE, location: loc(9, 11) },
        ],
        shutDownOldVersionAfter: [{ kind: 'pause', seconds: 3600, location: loc(11, 11) }],
      });
    }
  });

  it('accepts an empty blue/green strategy', () => {
    const plan = planOf('targets: { a: { strategy: bg } }\nstrategies: { bg: { blueGreen: } }\n');
    expect(plan.targets[0]?.strategy).toEqual({ kind: 'blueGreen', name: 'bg', redirectTrafficAfter: [], shutDownOldVersionAfter: [] });
  });

  it('rejects both spellings at once, setWeight and unknown fields in blue/green', () => {
    expect(errorsOf(`
      targets: { a: {} }
      strategies:
        bg:
          blueGreen:
            redirectTrafficAfter:
              - setWeight: { weight: 50 }
            shutDownOldVersionAfter: []
            shutdownOldVersionAfter: []
            activeServce: x
    `)).toEqual([
      "deploy.yml:6:11: strategies.bg.blueGreen.redirectTrafficAfter[0].setWeight: setWeight steps belong in a canary strategy's steps",
      'deploy.yml:8:7: strategies.bg.blueGreen.shutdownOldVersionAfter: give either shutDownOldVersionAfter or shutdownOldVersionAfter, not both',
      "deploy.yml:9:7: strategies.bg.blueGreen.activeServce: unknown field 'activeServce' (did you mean 'activeService'?)",
    ]);
  });

  it('rejects a strategy with both kinds, with neither, or with unknown fields', () => {
    expect(errorsOf(`
      targets: { a: {} }
      strategies:
        both: { canary: { steps: [] }, blueGreen: {} }
        neither: {}
        typo: { canery: { steps: [] } }
        stepless: { canary: { step: [] } }
        notamap: [1]
    `)).toEqual([
      'deploy.yml:3:9: strategies.both: a strategy is either canary or blueGreen, not both',
      'deploy.yml:4:12: strategies.neither: a strategy needs canary or blueGreen',
      "deploy.yml:5:11: strategies.typo.canery: unknown field 'canery' (did you mean 'canary'?)",
      "deploy.yml:6:25: strategies.stepless.canary.step: unknown field 'step' (did you mean 'steps'?)",
      'deploy.yml:7:12: strategies.notamap: expected a map, got a list',
    ]);
  });
});
