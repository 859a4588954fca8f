import { describe, expect, it } from 'vitest';
import { ANYONE, planOf, errorsOf, loc, withWebhook } from './helpers.ts';

describe('constraints', () => {
  it('reads runWebhook and both pause forms, in order', () => {
    const plan = planOf(withWebhook(`
      targets:
        staging:
          constraints:
            beforeDeployment:
              - runWebhook: { name: Run-Tests, context: { suite: smoke, shards: 4 } }
              - pause: { duration: 2, unit: Minutes }
              - pause: { duration: 1, units: HOURS }
            afterDeployment:
              - pause:
                  untilApproved: true
                  approvalExpiration: { duration: 90, unit: seconds }
                  requiresRoles: [release, sre]
              - pause: { untilApproved: true, requiresRole: admin }
              - pause: { untilApproved: true }
    `));
    const target = plan.targets[0];
    expect(target?.beforeDeployment).toEqual([
      { kind: 'webhook', webhook: 'Run-Tests', context: { suite: 'smoke', shards: '4' }, location: loc(5, 11) },
      { kind: 'pause', seconds: 120, location: loc(6, 11) },
      { kind: 'pause', seconds: 3600, location: loc(7, 11) },
    ]);
    expect(target?.afterDeployment).toEqual([
      { kind: 'approval', expirationSeconds: 90, roles: ['release', 'sre'], ...ANYONE, ownerTeams: ['release', 'sre'], location: loc(9, 11) },
      { kind: 'approval', expirationSeconds: null, roles: ['admin'], ...ANYONE, ownerTeams: ['admin'], location: loc(13, 11) },
      { kind: 'approval', expirationSeconds: null, roles: [], ...ANYONE, location: loc(14, 11) },
    ]);
  });

  it('accepts empty constraint lists', () => {
    const plan = planOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
            afterDeployment: []
    `);
    expect(plan.targets[0]?.beforeDeployment).toEqual([]);
  });

  it('rejects a webhook that is not defined, at its name', () => {
    expect(errorsOf(withWebhook(`
      targets:
        staging:
          constraints:
            afterDeployment:
              - runWebhook:
                  name: Run-Test
    `))).toEqual([
      "deploy.yml:6:19: targets.staging.constraints.afterDeployment[0].runWebhook.name: webhook 'Run-Test' is used by target staging but not defined under webhooks (did you mean 'Run-Tests'?)",
    ]);
  });

  it('uses the message of the style guide for a missing webhook', () => {
    const errors = errorsOf(`
      targets:
        staging:
          constraints:
            beforeDeployment: [{ runWebhook: { name: Run-Tests } }]
    `);
    expect(errors).toEqual([
      "deploy.yml:4:48: targets.staging.constraints.beforeDeployment[0].runWebhook.name: webhook 'Run-Tests' is used by target staging but not defined under webhooks",
    ]);
  });

  it('rejects a runWebhook without a name, with unknown fields or a nested context', () => {
    expect(errorsOf(withWebhook(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - runWebhook: { context: { a: 1 } }
              - runWebhook: { name: Run-Tests, contxt: {} }
              - runWebhook: { name: Run-Tests, context: { a: { b: 1 } } }
    `))).toEqual([
      'deploy.yml:5:23: targets.a.constraints.beforeDeployment[0].runWebhook.name: required field missing',
      "deploy.yml:6:42: targets.a.constraints.beforeDeployment[1].runWebhook.contxt: unknown field 'contxt' (did you mean 'context'?)",
      'deploy.yml:7:56: targets.a.constraints.beforeDeployment[2].runWebhook.context.a: expected a string, number or true/false, got a map',
    ]);
  });

  it('rejects a pause with both forms, with neither, and untilApproved: false', () => {
    expect(errorsOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - pause: { untilApproved: true, duration: 5, unit: seconds }
              - pause: {}
              - pause: { untilApproved: false }
              - pause:
    `)).toEqual([
      'deploy.yml:5:18: targets.a.constraints.beforeDeployment[0].pause: a pause is either {duration, unit} or {untilApproved: true}, not both',
      'deploy.yml:6:18: targets.a.constraints.beforeDeployment[1].pause: a pause needs duration and unit, or untilApproved: true',
      'deploy.yml:7:35: targets.a.constraints.beforeDeployment[2].pause.untilApproved: must be true; for a timed pause give duration and unit instead',
      'deploy.yml:8:11: targets.a.constraints.beforeDeployment[3].pause: expected a map, got nothing',
    ]);
  });

  it('rejects bad durations and units', () => {
    expect(errorsOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - pause: { duration: 5 }
              - pause: { duration: 5, unit: days }
              - pause: { duration: 5, unit: seconds, units: seconds }
              - pause: { duration: -1, unit: seconds }
              - pause: { duration: five, unit: seconds }
    `)).toEqual([
      'deploy.yml:5:18: targets.a.constraints.beforeDeployment[0].pause.unit: required field missing (seconds, minutes or hours)',
      "deploy.yml:6:39: targets.a.constraints.beforeDeployment[1].pause.unit: unknown unit 'days'; use seconds, minutes or hours",
      'deploy.yml:7:55: targets.a.constraints.beforeDeployment[2].pause.units: give either unit or units, not both',
      'deploy.yml:8:30: targets.a.constraints.beforeDeployment[3].pause.duration: must be at least 0, got the number -1',
      "deploy.yml:9:30: targets.a.constraints.beforeDeployment[4].pause.duration: expected a number, got the string 'five'",
    ]);
  });

  it('rejects approval options on a timed pause and bad expirations', () => {
    expect(errorsOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - pause: { duration: 5, unit: seconds, requiresRoles: [x] }
              - pause: { untilApproved: true, approvalExpiration: { duration: 0, unit: hours } }
              - pause: { untilApproved: true, requiresRoles: [a], requiresRole: b }
    `)).toEqual([
      'deploy.yml:5:48: targets.a.constraints.beforeDeployment[0].pause.requiresRoles: only applies to a pause with untilApproved: true',
      'deploy.yml:6:61: targets.a.constraints.beforeDeployment[1].pause.approvalExpiration: must be longer than 0 seconds',
      'deploy.yml:7:61: targets.a.constraints.beforeDeployment[2].pause.requiresRole: give either requiresRoles or requiresRole, not both',
    ]);
  });

  it('limits an approval expiration to 30 days', () => {
    const at = (hours: number): string => `
      targets:
        a:
          constraints:
            beforeDeployment:
              - pause: { untilApproved: true, approvalExpiration: { duration: ${hours}, unit: hours } }
    `;
    expect(planOf(at(720)).targets[0]?.beforeDeployment[0]).toMatchObject({ kind: 'approval', expirationSeconds: 2592000 });
    expect(errorsOf(at(721))).toEqual([
      'deploy.yml:5:61: targets.a.constraints.beforeDeployment[0].pause.approvalExpiration: must be at most 30 days (720 hours)',
    ]);
  });

  it('rejects steps that are not pause or runWebhook', () => {
    expect(errorsOf(withWebhook(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - runWebHook: { name: Run-Tests }
              - setWeight: { weight: 10 }
              - analysis: { queries: [] }
              - pause: { duration: 1, unit: seconds }
                runWebhook: { name: Run-Tests }
              - {}
              - just a string
              - duration: 5
                unit: seconds
            afterDeployment: { pause: {} }
    `))).toEqual([
      "deploy.yml:5:11: targets.a.constraints.beforeDeployment[0].runWebHook: unknown step 'runWebHook'; expected pause, runWebhook (did you mean 'runWebhook'?)",
      "deploy.yml:6:11: targets.a.constraints.beforeDeployment[1].setWeight: setWeight steps belong in a canary strategy's steps",
      'deploy.yml:7:11: targets.a.constraints.beforeDeployment[2].analysis: analysis steps are not supported; call your analysis service with a runWebhook step instead',
      "deploy.yml:8:11: targets.a.constraints.beforeDeployment[3]: a step has exactly one of pause, runWebhook; found 'pause' and 'runWebhook' (put each in its own list item)",
      'deploy.yml:10:11: targets.a.constraints.beforeDeployment[4]: a step has exactly one of pause, runWebhook; found nothing',
      "deploy.yml:11:11: targets.a.constraints.beforeDeployment[5]: expected a step (pause, runWebhook), got the string 'just a string'",
      "deploy.yml:12:11: targets.a.constraints.beforeDeployment[6]: a step has exactly one of pause, runWebhook; found 'duration' and 'unit'",
      'deploy.yml:14:24: targets.a.constraints.afterDeployment: expected a list of steps, got a map',
    ]);
  });
});
