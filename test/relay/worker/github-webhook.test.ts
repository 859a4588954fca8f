/**
 * `POST /github/webhook` (relay/worker/github-webhook.ts): deliveries verified with
 * GITHUB_WEBHOOK_SECRET as GitHub signs them (X-Hub-Signature-256), anything else refused
 * before it reaches a run; the callback URL checked against GITHUB_API_URL and the repository.
 */
import { sign } from '@octokit/webhooks-methods';
import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { callbackRun } from '../../../relay/github/protection-callback.ts';
import { app } from '../../../relay/worker/app.ts';
import { BASE, decide, expectError, register, runInObject, sleep } from '../helpers.ts';
import { GITHUB } from '../park.ts';

const SECRET = env.GITHUB_WEBHOOK_SECRET ?? '';

/** A repository and workflow run no other test uses. */
function newRun(): { repository: string; runId: string } {
  return { repository: `acme/hook-${crypto.randomUUID().slice(0, 8)}`, runId: String(Math.floor(Math.random() * 1e12)) };
}

function payload(run: { repository: string; runId: string }, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action: 'requested',
    environment: 'prod',
    event: 'push',
    deployment_callback_url: `${GITHUB}/repos/${run.repository}/actions/runs/${run.runId}/deployment_protection_rule`,
    repository: { full_name: run.repository },
    installation: { id: 42 },
    sender: { login: 'mona' },
    ...overrides,
  };
}

type Delivery = { event?: string; body: string; signature?: string | null; delivery?: string; relayEnv?: Partial<Cloudflare.Env> };

/** POSTs a delivery, signed with the tests' secret unless `signature` says otherwise. */
async function deliver({ event = 'deployment_protection_rule', body, signature, delivery = crypto.randomUUID(), relayEnv = {} }: Delivery): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': delivery };
  const signed = signature === undefined ? await sign(SECRET, body) : signature;
  if (signed !== null) headers['x-hub-signature-256'] = signed;
  return app.request(`${BASE}/github/webhook`, { method: 'POST', headers, body }, { ...env, ...relayEnv });
}

/** The protection requests the run stored (none when the run's object never stored one). */
function storedRequests(run: { repository: string; runId: string }): Promise<unknown[]> {
  return runInObject(`${run.repository}/${run.runId}`, (state) => {
    const table = state.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'protection_requests'").toArray();
    return table.length === 0 ? [] : state.storage.sql.exec('SELECT * FROM protection_requests').toArray();
  });
}

describe('a delivery to /github/webhook', () => {
  it('signed with the secret is taken: the request is stored in the run <repo>/<run id>', async () => {
    const run = newRun();
    const res = await deliver({ body: JSON.stringify(payload(run)) });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ runId: `${run.repository}/${run.runId}`, stored: true });
    expect(await storedRequests(run)).toHaveLength(1);
  });

  it('is routed by the Worker itself', async () => {
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const headers = { 'x-github-event': 'ping', 'x-hub-signature-256': await sign(SECRET, body), 'x-github-delivery': crypto.randomUUID() };
    const res = await SELF.fetch(`${BASE}/github/webhook`, { method: 'POST', headers, body });
    expect(res.status).toBe(200);
  });

  it('unsigned, forged with another secret, with an altered body or another algorithm: 401, nothing stored', async () => {
    const run = newRun();
    const body = JSON.stringify(payload(run));
    const genuine = await sign(SECRET, body);
    const forged = await sign('another-secret', body);
    const cases: Delivery[] = [
      { body, signature: null },
      { body, signature: '' },
      { body, signature: forged },
      { body: body.replace('"prod"', '"prod2"'), signature: genuine },
      { body: `${body} `, signature: genuine },
      { body, signature: genuine.replace('sha256=', 'sha1=') },
      { body, signature: genuine.replace('sha256=', '') },
      { body, signature: genuine.replace('sha256=', 'SHA256=') },
      { body, signature: genuine.toUpperCase().replace('SHA256=', 'sha256=') },
      { body, signature: `${genuine}00` },
      { body, signature: `sha256=zz${genuine.slice(9)}` },
    ];
    for (const delivery of cases) {
      const refused = await expectError(await deliver(delivery), 401, 'unauthorized');
      expect(refused.message).toMatch(/X-Hub-Signature-256/);
      expect(refused.message).not.toContain(SECRET);
    }
    expect(await storedRequests(run)).toHaveLength(0);
  });

  it('when the relay has no GITHUB_WEBHOOK_SECRET: 503 saying so, nothing stored', async () => {
    const run = newRun();
    const body = JSON.stringify(payload(run));
    for (const secret of [undefined, '']) {
      const res = await deliver({ body, relayEnv: { GITHUB_WEBHOOK_SECRET: secret } });
      expect((await expectError(res, 503, 'misconfigured')).message).toContain('GITHUB_WEBHOOK_SECRET');
    }
    expect(await storedRequests(run)).toHaveLength(0);
  });

  it('larger than 1 MiB: 413, before anything is verified', async () => {
    const body = JSON.stringify({ padding: 'x'.repeat(1024 * 1024) });
    await expectError(await deliver({ body }), 413, 'payload_too_large');
  });

  it('ping: 200; another event or action: 202, ignored', async () => {
    const ping = await deliver({ event: 'ping', body: JSON.stringify({ zen: 'Design for failure.' }) });
    expect(ping.status).toBe(200);
    const run = newRun();
    for (const [event, body] of [
      ['push', payload(run)],
      ['deployment_protection_rule', payload(run, { action: 'completed' })],
      ['installation', { action: 'created' }],
    ] as const) {
      const res = await deliver({ event, body: JSON.stringify(body) });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ ignored: true });
    }
    expect(await storedRequests(run)).toHaveLength(0);
  });

  it('signed but not JSON, or without a field it needs: 400 naming the field', async () => {
    await expectError(await deliver({ body: 'not json' }), 400, 'bad_request');
    const run = newRun();
    const cases: [Record<string, unknown>, RegExp][] = [
      [payload(run, { environment: undefined }), /^environment:/],
      [payload(run, { environment: '' }), /^environment:/],
      [payload(run, { deployment_callback_url: undefined }), /^deployment_callback_url:/],
      [payload(run, { repository: { full_name: 'no-slash' } }), /^repository\.full_name:/],
      [payload(run, { installation: undefined }), /^installation:/],
    ];
    for (const [body, message] of cases) {
      expect((await expectError(await deliver({ body: JSON.stringify(body) }), 400, 'bad_request')).message).toMatch(message);
    }
    const noDelivery = await deliver({ body: JSON.stringify(payload(run)), delivery: '' });
    expect((await expectError(noDelivery, 400, 'bad_request')).message).toMatch(/X-GitHub-Delivery/);
    expect(await storedRequests(run)).toHaveLength(0);
  });

  it('whose callback URL is not GitHub’s API for that repository: 400, nothing stored', async () => {
    const run = newRun();
    const path = `/repos/${run.repository}/actions/runs/${run.runId}/deployment_protection_rule`;
    for (const url of [
      `https://evil.test${path}`,
      `http://api.github.test${path}`,
      `${GITHUB}/repos/acme/other/actions/runs/${run.runId}/deployment_protection_rule`,
      `${GITHUB}/repos/${run.repository}/actions/runs/${run.runId}/approve`,
      `${GITHUB}${path}?x=1`,
      `https://user:pw@api.github.test${path}`,
      'not a url',
    ]) {
      const res = await deliver({ body: JSON.stringify(payload(run, { deployment_callback_url: url })) });
      expect((await expectError(res, 400, 'bad_request')).message).toMatch(/^deployment_callback_url:/);
    }
    expect(await storedRequests(run)).toHaveLength(0);
  });

  it('without the App that must answer: 503 naming it', async () => {
    const run = newRun();
    const res = await deliver({ body: JSON.stringify(payload(run)), relayEnv: { GITHUB_APP_ID: undefined, GITHUB_APP_PRIVATE_KEY: undefined } });
    expect((await expectError(res, 503, 'misconfigured')).message).toMatch(/GITHUB_APP_ID/);
    expect(await storedRequests(run)).toHaveLength(0);
  });
});

describe('a deployment_protection_rule delivery', { timeout: 30_000 }, () => {
  it('is answered approved through the callback URL once the environment’s gates succeeded', async () => {
    const run = { repository: `acme/hook-${crypto.randomUUID().slice(0, 8)}`, runId: String(Math.floor(Math.random() * 1e12)) };
    const gate = await register({ runId: `${run.repository}/${run.runId}`, stepKey: 'prod/beforeDeployment/0/Ticket', target: 'prod', name: 'Ticket' });
    expect((await deliver({ body: JSON.stringify(payload(run)) })).status).toBe(202);
    await decide(gate.callbackUri, { success: true, mdMessage: 'change CHG-1 approved' });
    const until = Date.now() + 8000;
    let reviews: unknown[] = [];
    while (reviews.length === 0 && Date.now() < until) {
      await sleep(25);
      reviews = ((await (await fetch(`${GITHUB}/_control/protection/log?repository=${run.repository}`)).json()) as { reviews: unknown[] }).reviews;
    }
    expect(reviews).toEqual([
      {
        runId: run.runId,
        environment: 'prod',
        state: 'approved',
        comment: 'hookgate: 1 beforeDeployment gate of prod succeeded.\n- webhook Ticket succeeded: change CHG-1 approved',
      },
    ]);
  });
});

describe('the callback URL check', () => {
  it('takes GitHub Enterprise Server’s API path and names in any case', () => {
    const url = 'https://ghe.test/api/v3/repos/Acme/App/actions/runs/77/deployment_protection_rule';
    expect(callbackRun(url, 'https://ghe.test/api/v3', 'acme/app')).toEqual({ owner: 'Acme', repo: 'App', runId: '77' });
    expect(callbackRun(url, 'https://ghe.test', 'acme/app')).toHaveProperty('problem');
    expect(callbackRun(url.replace('/api/v3', ''), 'https://ghe.test/api/v3', 'acme/app')).toHaveProperty('problem');
  });
});
