import { describe, expect, it } from 'vitest';
import { MAX_APPROVERS } from '../../../shared/protocol.ts';
import { ANYONE, errorsOf, loc, planOf } from './helpers.ts';

/** A file whose one target waits for `pause` (a flow map's inside), after these `roles:` lines. */
const file = (roles: string, pause: string): string => `${roles}
targets:
  prod:
    constraints:
      beforeDeployment:
        - pause: { untilApproved: true, ${pause} }
`;

describe('roles', () => {
  it('resolves requiresRoles through roles: once each, case-insensitively, a role it lacks as the owner’s team', () => {
    const plan = planOf(`
      roles:
        release-managers: ["@acme/release-team", mona, MONA]
        sre: [hubot, Mona]
        dba: "@acme/dba"
      targets:
        prod:
          constraints:
            beforeDeployment:
              - pause: { untilApproved: true, requiresRoles: [release-managers, sre, platform], minimumApprovals: 2, preventSelfReview: true }
              - pause: { untilApproved: true, requiresRole: dba }
    `);
    expect(plan.targets[0]?.beforeDeployment).toEqual([
      {
        kind: 'approval', expirationSeconds: null, roles: ['release-managers', 'sre', 'platform'],
        approvers: ['@acme/release-team', 'mona', 'hubot'], ownerTeams: ['platform'], minimumApprovals: 2, preventSelfReview: true, location: loc(9, 11),
      },
      { kind: 'approval', expirationSeconds: null, roles: ['dba'], ...ANYONE, approvers: ['@acme/dba'], location: loc(10, 11) },
    ]);
    expect(plan.notices).toEqual([
      "targets.prod.constraints.beforeDeployment[0].pause.requiresRoles names role platform, which is not defined under roles: it means the team platform of the repository owner's organization (deploy.yml:9:41)",
    ]);
  });

  it('leaves an approval without roles to anyone with write access, and roles: may be empty', () => {
    const plan = planOf(file('roles: {}', 'minimumApprovals: 3'));
    expect(plan.targets[0]?.beforeDeployment[0]).toEqual({ kind: 'approval', expirationSeconds: null, roles: [], ...ANYONE, minimumApprovals: 3, location: loc(6, 11) });
    expect(plan.notices).toEqual([]);
  });

  it('refuses entries that are neither a login nor a team, at their line and column', () => {
    expect(errorsOf(`
      roles:
        release-managers: ["@acme/release-team", "@mona", "two words", 7, "@acme/"]
        empty: []
        nobody:
        team: { a: b }
      targets: {a: {}}
    `)).toEqual([
      "deploy.yml:2:44: roles.release-managers[1]: expected a GitHub login or team, got the string '@mona': write a person's login without @ (mona), a team as @org/team",
      "deploy.yml:2:53: roles.release-managers[2]: expected a GitHub login (mona) or team (@acme/release-team), got the string 'two words'",
      'deploy.yml:2:66: roles.release-managers[3]: expected a GitHub login (mona) or team (@acme/release-team), got the number 7',
      "deploy.yml:2:69: roles.release-managers[4]: expected a GitHub login (mona) or team (@acme/release-team), got the string '@acme/'",
      'deploy.yml:3:10: roles.empty: needs at least one GitHub login or team (@org/team)',
      'deploy.yml:4:3: roles.nobody: expected a list of GitHub logins and teams (@org/team), got nothing',
      'deploy.yml:5:9: roles.team: expected a list of GitHub logins and teams (@org/team), got a map',
    ]);
  });

  it('refuses roles: that is not a map, and still refuses an unknown top-level field', () => {
    expect(errorsOf('roles: [a]\nrole: {}\ntargets: {a: {}}\n')).toEqual([
      'deploy.yml:1:8: roles: expected a map of role names to GitHub logins and teams, got a list',
      "deploy.yml:2:1: role: unknown field 'role' (did you mean 'roles'?)",
    ]);
  });

  it('says to quote a team, which YAML cannot read unquoted', () => {
    expect(errorsOf('roles:\n  a: [@acme/team]\ntargets: {a: {}}\n')).toEqual([
      'deploy.yml:2:7: YAML syntax error: Plain value cannot start with reserved character @; put a team in quotes: "@acme/release-team"',
    ]);
  });

  it('refuses a near miss of a defined role, and a role with nothing to make a team slug of', () => {
    expect(errorsOf(`
      roles:
        release-managers: [mona]
      targets:
        prod:
          constraints:
            beforeDeployment:
              - pause: { untilApproved: true, requiresRoles: [release-manager] }
              - pause: { untilApproved: true, requiresRole: "!!!" }
    `)).toEqual([
      "deploy.yml:7:57: targets.prod.constraints.beforeDeployment[0].pause.requiresRoles[0]: role 'release-manager' is not defined under roles (did you mean 'release-managers'?)",
      "deploy.yml:8:55: targets.prod.constraints.beforeDeployment[1].pause.requiresRole: role '!!!' is not defined under roles, and has no letter or digit to make a team's slug of; define it under roles",
    ]);
  });

  it('takes an Armory role name that is free text as the slug GitHub gives a team of that name', () => {
    const plan = planOf(file('', 'requiresRoles: ["Release Managers", " SRE / On-call ", release-managers]'));
    expect(plan.targets[0]?.beforeDeployment[0]).toMatchObject({ approvers: [], ownerTeams: ['release-managers', 'sre-on-call'] });
    expect(plan.notices).toEqual([
      "targets.prod.constraints.beforeDeployment[0].pause.requiresRoles names role Release Managers, which is not defined under roles: it means the team release-managers of the repository owner's organization (deploy.yml:5:41)",
    ]);
  });
});

describe('minimumApprovals and preventSelfReview', () => {
  it('takes 1 to 10 approvals and a boolean, naming the field', () => {
    expect(planOf(file('', 'minimumApprovals: 10, preventSelfReview: false')).targets[0]?.beforeDeployment[0]).toMatchObject({ minimumApprovals: 10, preventSelfReview: false });
    expect(errorsOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - pause: { untilApproved: true, minimumApprovals: 0 }
              - pause: { untilApproved: true, minimumApprovals: 11 }
              - pause: { untilApproved: true, minimumApprovals: 1.5, preventSelfReview: yes }
              - pause: { untilApproved: true, minimumApprovals: "2" }
    `)).toEqual([
      'deploy.yml:5:59: targets.a.constraints.beforeDeployment[0].pause.minimumApprovals: must be at least 1, got the number 0',
      'deploy.yml:6:59: targets.a.constraints.beforeDeployment[1].pause.minimumApprovals: must be at most 10, got the number 11',
      'deploy.yml:7:59: targets.a.constraints.beforeDeployment[2].pause.minimumApprovals: expected a whole number, got the number 1.5',
      "deploy.yml:7:83: targets.a.constraints.beforeDeployment[2].pause.preventSelfReview: expected true or false, got the string 'yes'",
      "deploy.yml:8:59: targets.a.constraints.beforeDeployment[3].pause.minimumApprovals: expected a number, got the string '2'",
    ]);
  });

  it('belong to an approval only: on a timed pause the error says so', () => {
    expect(errorsOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - pause: { duration: 5, unit: seconds, minimumApprovals: 2, preventSelfReview: true }
    `)).toEqual([
      'deploy.yml:5:48: targets.a.constraints.beforeDeployment[0].pause.minimumApprovals: only applies to a pause with untilApproved: true',
      'deploy.yml:5:69: targets.a.constraints.beforeDeployment[0].pause.preventSelfReview: only applies to a pause with untilApproved: true',
    ]);
  });

  it('refuses more approvals than the people its roles name, unless a team may decide', () => {
    expect(errorsOf(file('roles: { r: [mona, hubot] }', 'requiresRoles: [r], minimumApprovals: 3'))).toEqual([
      'deploy.yml:6:79: targets.prod.constraints.beforeDeployment[0].pause.minimumApprovals: needs 3 approvals, but its roles name only 2 people and no team',
    ]);
    expect(planOf(file('roles: { r: [mona, "@acme/sre"] }', 'requiresRoles: [r], minimumApprovals: 3')).targets[0]?.beforeDeployment[0]).toMatchObject({ minimumApprovals: 3 });
    expect(planOf(file('roles: { r: [mona, hubot] }', 'requiresRoles: [r, dba], minimumApprovals: 3')).targets[0]?.beforeDeployment[0]).toMatchObject({ ownerTeams: ['dba'] });
  });
});

describe('the limits of roles', () => {
  const people = (n: number, prefix = 'user'): string => `[${Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(', ')}]`;

  it(`lets an approval name ${MAX_APPROVERS} approvers, and no more`, () => {
    const item = planOf(file(`roles: { a: ${people(MAX_APPROVERS)} }`, 'requiresRoles: [a]')).targets[0]?.beforeDeployment[0];
    expect(item?.kind === 'approval' && item.approvers.length).toBe(MAX_APPROVERS);
    expect(errorsOf(file(`roles: { a: ${people(MAX_APPROVERS + 1)} }`, 'requiresRoles: [a]'))).toEqual([
      `deploy.yml:1:13: roles.a: has ${MAX_APPROVERS + 1} entries; an approval may name at most ${MAX_APPROVERS} approvers`,
    ]);
    expect(errorsOf(file(`roles: { a: ${people(30, 'a')}, b: ${people(20, 'b')} }`, 'requiresRoles: [a, b, platform]'))).toEqual([
      `deploy.yml:6:56: targets.prod.constraints.beforeDeployment[0].pause.requiresRoles: names ${MAX_APPROVERS + 1} approvers through roles; an approval may name at most ${MAX_APPROVERS}`,
    ]);
  });

  it('bounds the roles of a file and of a pause, and the length of a role’s name', () => {
    const many = Array.from({ length: 101 }, (_, i) => `r${i}: [mona]`).join(', ');
    expect(errorsOf(file(`roles: { ${many} }`, ''))).toEqual(['deploy.yml:1:8: roles: defines 101 roles; at most 100']);
    const long = 'r'.repeat(101);
    expect(errorsOf(file(`roles: { ${long}: [mona] }`, ''))).toEqual([`deploy.yml:1:10: roles.${long}: a role name has at most 100 characters`]);
    expect(errorsOf(file('', `requiresRoles: ${people(21, 'team')}`))).toEqual([
      'deploy.yml:5:56: targets.prod.constraints.beforeDeployment[0].pause.requiresRoles: has 21 items; at most 20',
    ]);
    expect(errorsOf(file('', `requiresRole: ${long}`))).toEqual([
      `deploy.yml:5:55: targets.prod.constraints.beforeDeployment[0].pause.requiresRole: must be at most 100 characters`,
    ]);
  });
});
