import { describe, expect, it } from 'vitest';
import type { CallAnswer } from '../../../action/effects/monitor-vars.ts';
import type { MonitorDef } from '../../../action/plan/plan.ts';
import { json, rig } from '../../support/status-apis/monitor-rig.ts';

const building = json({ result: null, building: true });

describe('monitorGate: polling to a verdict', () => {
  it('polls one interval after the call and every interval after, and posts success with the status as output', async () => {
    const r = rig();
    r.statuses = [building, building, json({ result: 'SUCCESS' })];
    await r.run();
    expect(r.h.clock.sleeps).toEqual([30_000, 30_000, 30_000]);
    expect(r.polls.map((p) => `${p.method} ${p.url}`)).toEqual(Array(3).fill('GET https://jenkins.example:8080/job/smoke/api/json?token=s3cr3t-value-xyz'));
    expect(r.posts).toEqual([{ success: true, mdMessage: 'monitor: `$.result` is `SUCCESS` (GET jenkins.example:8080)', outputs: { status: 'SUCCESS' } }]);
    expect(r.h.story()).toEqual([
      '[prod] monitor Smoke: polling GET jenkins.example:8080 every 30s for $.result (success: SUCCESS, failure: FAILURE, ABORTED)',
      '[prod] monitor Smoke: status null',
      '[prod] monitor Smoke: status null → SUCCESS',
      '[prod] monitor Smoke: success — monitor: `$.result` is `SUCCESS` (GET jenkins.example:8080)',
    ]);
  });

  it('posts a failure when the value is a failure value', async () => {
    const r = rig();
    r.statuses = [json({ result: 'FAILURE' })];
    await r.run();
    expect(r.posts).toEqual([{ success: false, mdMessage: 'monitor: `$.result` is `FAILURE` (GET jenkins.example:8080)', outputs: { status: 'FAILURE' } }]);
  });

  it('keeps waiting on no match, null and other values, and compares ignoring case and spaces', async () => {
    const r = rig({ intervalSeconds: 5 });
    r.statuses = [json({}), json({ result: null }), json({ result: 'UNSTABLE' }), json({ result: 42 }), json({ result: ' aborted ' })];
    await r.run();
    expect(r.polls).toHaveLength(5);
    expect(r.h.clock.sleeps).toEqual(Array(5).fill(5_000));
    expect(r.posts).toEqual([{ success: false, mdMessage: 'monitor: `$.result` is ` aborted ` (GET jenkins.example:8080)', outputs: { status: ' aborted ' } }]);
    expect(r.h.story().filter((line) => line.includes('status'))).toEqual([
      '[prod] monitor Smoke: status (no match)',
      '[prod] monitor Smoke: status (no match) → null',
      '[prod] monitor Smoke: status null → UNSTABLE',
      '[prod] monitor Smoke: status UNSTABLE → 42',
      '[prod] monitor Smoke: status 42 →  aborted ',
    ]);
  });

  it('compares numbers and booleans as text', async () => {
    const r = rig({ statusPath: '$.done', success: ['true'], failure: ['0'] });
    r.statuses = [json({ done: false }), json({ done: true })];
    await r.run();
    expect(r.posts).toEqual([expect.objectContaining({ success: true, outputs: { status: 'true' } })]);
  });

  it('fails at once on a 4xx other than 408 and 429, quoting the answer redacted', async () => {
    const r = rig();
    r.statuses = [new Response('bad token s3cr3t-value-xyz for user ci', { status: 401 }), json({ result: 'SUCCESS' })];
    await r.run();
    expect(r.polls).toHaveLength(1);
    expect(r.posts).toEqual([{ success: false, mdMessage: 'monitor: the status request GET jenkins.example:8080 answered HTTP 401: `bad token *** for user ci`' }]);
  });

  it('keeps polling through 5xx, 408, 429 and network errors, logging each kind of trouble once', async () => {
    const r = rig();
    const down = (): Response => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 10.0.0.8:8080') });
    };
    r.statuses = [new Response('oops', { status: 503 }), new Response('oops', { status: 503 }), new Response('', { status: 408 }), json({}, 429), down, down, json({ result: 'SUCCESS' })];
    await r.run();
    expect(r.polls).toHaveLength(7);
    expect(r.posts).toEqual([expect.objectContaining({ success: true })]);
    expect(r.h.story().filter((line) => line.includes('polling on'))).toEqual([
      '[prod] monitor Smoke: GET jenkins.example:8080 failed (HTTP 503: oops); polling on',
      '[prod] monitor Smoke: GET jenkins.example:8080 failed (HTTP 408); polling on',
      '[prod] monitor Smoke: GET jenkins.example:8080 failed (HTTP 429: {}); polling on',
      '[prod] monitor Smoke: GET jenkins.example:8080 failed (fetch failed: connect ECONNREFUSED 10.0.0.8:8080); polling on',
    ]);
  });

  it('waits as long as Retry-After asks when that is longer than the interval, never past the gate’s deadline', async () => {
    const r = rig();
    r.statuses = [json({}, 429, { 'retry-after': '120' }), json({}, 503, { 'retry-after': '7' }), json({}, 503, { 'retry-after': '999999' }), json({ result: 'SUCCESS' })];
    await r.run();
    const [first, second, third, fourth] = r.h.clock.sleeps;
    expect([first, second, third]).toEqual([30_000, 120_000, 30_000]);
    // The gate was registered with an hour left: 180 s of it are gone.
    expect(fourth).toBe(3_600_000 - 180_000);
    expect(r.posts).toEqual([expect.objectContaining({ success: true })]);
  });

  it('finds the build of its queue item with a JSONPath filter on {{response.locationId}}', async () => {
    const r = rig({
      // The relative Location resolved against the call's URL: the status request's tree parameter rides on it.
      uriTemplate: '{{response.location}}?tree=builds[number,queueId,result,building]',
      statusPath: '$.builds[?(@.queueId=={{response.locationId}})].result',
    });
    const builds = (ours: string | null): Response =>
      json({ builds: [{ number: 8, queueId: 18, result: null, building: true }, { number: 7, queueId: 17, result: ours, building: ours === null }, { number: 6, queueId: 16, result: 'SUCCESS', building: false }] });
    r.statuses = [json({ builds: [{ number: 6, queueId: 16, result: 'SUCCESS', building: false }] }), builds(null), builds('FAILURE')];
    await r.run({ status: 201, headers: new Headers({ location: '/queue/item/17/' }) });
    expect(r.polls[0]?.url).toBe('https://jenkins.example:8080/queue/item/17/?tree=builds[number,queueId,result,building]');
    expect(r.posts).toEqual([{ success: false, mdMessage: 'monitor: `$.builds[?(@.queueId==17)].result` is `FAILURE` (GET jenkins.example:8080)', outputs: { status: 'FAILURE' } }]);
    expect(r.h.story().filter((line) => line.includes('status'))).toEqual([
      '[prod] monitor Smoke: status (no match)',
      '[prod] monitor Smoke: status (no match) → null',
      '[prod] monitor Smoke: status null → FAILURE',
    ]);
  });

  it('polls the URL from the call’s JSON answer with {{response.body.*}}', async () => {
    const r = rig({ uriTemplate: '{{response.body.run_url}}', statusPath: '$.conclusion', success: ['success'], failure: ['failure', 'cancelled'] }, { uriTemplate: 'https://api.github.example/repos/o/r/actions/workflows/smoke.yml/dispatches' });
    r.statuses = [json({ status: 'in_progress', conclusion: null }), json({ status: 'completed', conclusion: 'success' })];
    await r.run({ status: 200, body: JSON.stringify({ workflow_run_id: 9, run_url: 'https://api.github.example/repos/o/r/actions/runs/9', html_url: 'https://github.example/o/r/actions/runs/9' }) });
    expect(r.polls.map((p) => p.url)).toEqual(Array(2).fill('https://api.github.example/repos/o/r/actions/runs/9'));
    expect(r.posts).toEqual([expect.objectContaining({ success: true, outputs: { status: 'success' } })]);
  });

  it('fails without polling when a response variable has no value, naming it and why', async () => {
    const cases: [Partial<Parameters<ReturnType<typeof rig>['run']>[0]>, string, string][] = [
      [{ status: 201 }, '$.builds[?(@.queueId=={{response.locationId}})].result', "monitor: {{response.locationId}} has no value: the call's answer (HTTP 201) has no Location header (deploy.yml:1:1)"],
      [{ status: 200, body: '<html>' }, '$.x[?(@.id=={{response.body.id}})]', "monitor: {{response.body.id}} has no value: the call's answer (HTTP 200) is not JSON (deploy.yml:1:1)"],
      [{ status: 200, body: '{"id": null}' }, '$.x[?(@.id=={{response.body.id}})]', "monitor: {{response.body.id}} has no value: the call's JSON answer (HTTP 200) has no value at id (deploy.yml:1:1)"],
      [{ status: 200, body: '{"items": [{"id": 3}]}' }, '$.x[?(@.id=={{response.body.items.1.id}})]', "monitor: {{response.body.items.1.id}} has no value: the call's JSON answer (HTTP 200) has no value at items.1.id (deploy.yml:1:1)"],
    ];
    for (const [answer, statusPath, message] of cases) {
      const r = rig({ statusPath });
      await r.run(answer);
      expect(r.polls).toEqual([]);
      expect(r.h.clock.sleeps).toEqual([]);
      expect(r.posts).toEqual([{ success: false, mdMessage: message }]);
    }
  });

  it('fails without polling when the status URL is not an http(s) URL', async () => {
    const r = rig({ uriTemplate: '{{response.body.next}}' });
    await r.run({ status: 200, body: JSON.stringify({ next: 'ftp://jenkins.example/status' }) });
    expect(r.polls).toEqual([]);
    expect(r.posts).toEqual([{ success: false, mdMessage: 'monitor: the status request’s uriTemplate does not render to an http(s) URL (deploy.yml:1:1)' }]);
  });

  it('refuses a value in statusPath that could change the expression', async () => {
    const r = rig({ statusPath: '$.builds[?(@.queueId=={{response.locationId}})].result' });
    await r.run({ headers: new Headers({ location: '/queue/item/1)]..x||true/' }) });
    expect(r.polls).toEqual([]);
    expect(r.posts).toEqual([expect.objectContaining({ success: false, mdMessage: expect.stringContaining('{{response.locationId}} cannot go into statusPath') })]);
  });

  it('keeps waiting through a 2xx without JSON, and fails on the third in a row', async () => {
    const page = (): Response => new Response('<html>Please wait while Jenkins is restarting</html>', { status: 200 });
    const r = rig();
    r.statuses = [page(), page(), building, page(), page(), page()];
    await r.run();
    expect(r.polls).toHaveLength(6);
    expect(r.posts).toEqual([
      { success: false, mdMessage: 'monitor: the status request GET jenkins.example:8080 answered HTTP 200 without JSON: `<html>Please wait while Jenkins is restarting</html>` (3 times in a row)' },
    ]);
  });

  it('says so when the call’s answer was too large to read a response.body variable from', async () => {
    const r = rig({ uriTemplate: '{{response.body.run_url}}' });
    await r.run({ status: 200, body: null });
    expect(r.polls).toEqual([]);
    expect(r.posts).toEqual([{ success: false, mdMessage: "monitor: {{response.body.run_url}} has no value: the call's answer (HTTP 200) is larger than 64 KiB (the monitor reads no more of it) (deploy.yml:1:1)" }]);
  });

  it('names the monitor’s place in the file when statusPath cannot be evaluated', async () => {
    const r = rig({ statusPath: '$.builds[?(@.result==)]' });
    r.statuses = [json({ builds: [{ result: null }] })];
    await r.run();
    expect(r.posts).toEqual([{ success: false, mdMessage: expect.stringMatching(/^monitor: statusPath `\$\.builds\[\?\(@\.result==\)\]` cannot be evaluated: .+ \(deploy\.yml:1:1\)$/) }]);
  });

  it('never sends its headers to a host an answer named: a response.* origin must be the call’s or one written in uriTemplate', async () => {
    const auth = [{ key: 'Authorization', value: 'Bearer {{secrets.TOKEN}}' }];
    const refused = (origin: string, name: string): string =>
      `monitor: the status URL's origin ${origin} comes from {{${name}}} and is neither the webhook call's (https://jenkins.example:8080) nor one written at the start of monitor.uriTemplate; ` +
      "the monitor sends its headers only where the file says: write the status URL's scheme and host in monitor.uriTemplate (deploy.yml:1:1)";
    const cases: [Partial<MonitorDef>, Partial<CallAnswer>, string | null][] = [
      [{ uriTemplate: '{{response.body.next}}' }, { status: 200, body: '{"next": "https://collector.evil.example/steal"}' }, refused('https://collector.evil.example', 'response.body.next')],
      [{ uriTemplate: '{{response.location}}api/json' }, { headers: new Headers({ location: 'https://collector.evil.example/queue/item/3/' }) }, refused('https://collector.evil.example', 'response.location')],
      // A downgrade to http is another origin too.
      [{ uriTemplate: '{{response.location}}api/json' }, { headers: new Headers({ location: 'http://jenkins.example:8080/queue/item/3/' }) }, refused('http://jenkins.example:8080', 'response.location')],
      // Text before the variable that does not end the host does not fix it.
      [{ uriTemplate: 'https://jenkins.example{{response.body.path}}' }, { status: 200, body: '{"path": ".evil.example/x"}' }, refused('https://jenkins.example.evil.example', 'response.body.path')],
      [{ uriTemplate: 'https://status.example{{response.body.path}}' }, { status: 200, body: '{"path": "@evil.example/x"}' }, refused('https://evil.example', 'response.body.path')],
      // The call's origin, one written in uriTemplate, or a host the file's text already ends: polled.
      [{ uriTemplate: '{{response.location}}api/json' }, { headers: new Headers({ location: '/queue/item/3/' }) }, null],
      [{ uriTemplate: 'https://status.example{{response.body.path}}' }, { status: 200, body: '{"path": "/runs/9"}' }, null],
      [{ uriTemplate: 'https://status.example/{{response.body.path}}' }, { status: 200, body: '{"path": "@evil.example/x"}' }, null],
    ];
    for (const [monitor, answer, message] of cases) {
      const r = rig({ ...monitor, headers: auth });
      await r.run(answer);
      if (message === null) {
        expect(r.polls, monitor.uriTemplate).toHaveLength(1);
        expect(r.posts).toEqual([expect.objectContaining({ success: true })]);
      } else {
        expect(r.polls, monitor.uriTemplate).toEqual([]);
        expect(r.posts).toEqual([{ success: false, mdMessage: message }]);
      }
    }
  });

  it('follows no redirect: a 3xx fails the gate naming where it pointed', async () => {
    const r = rig();
    r.statuses = [new Response(null, { status: 302, headers: { location: 'https://login.example/sso?next=/job/smoke' } }), json({ result: 'SUCCESS' })];
    await r.run();
    expect(r.polls).toHaveLength(1);
    expect(r.polls[0]?.redirect).toBe('manual');
    expect(r.posts).toEqual([
      {
        success: false,
        mdMessage: 'monitor: the status request GET jenkins.example:8080 answered HTTP 302, a redirect to login.example; the monitor follows no redirect (its headers would go along): put the final URL in monitor.uriTemplate (deploy.yml:1:1)',
      },
    ]);
  });

  it('polls on through a rate-limited 403 (GitHub’s), waiting for the limit’s reset', async () => {
    const r = rig();
    const reset = String(Math.floor(r.h.clock.now() / 1000) + 30 + 600);
    r.statuses = [json({ message: 'API rate limit exceeded' }, 403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }), json({ message: 'secondary rate limit' }, 403, { 'retry-after': '90' }), json({ result: 'SUCCESS' })];
    await r.run();
    expect(r.polls).toHaveLength(3);
    expect(r.h.clock.sleeps).toEqual([30_000, 600_000, 90_000]);
    expect(r.posts).toEqual([expect.objectContaining({ success: true })]);
  });
});
