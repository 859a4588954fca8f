/** HTTP behaviour of the relay Worker (relay/worker/app.ts) on the action's routes, through SELF. Callback URIs: app-callback.test.ts. */
import { env, listDurableObjectIds, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../../../relay/worker/app.ts';
import { MAX_BODY_BYTES, RegisterGateResponse } from '../../../shared/protocol.ts';
import {
  authHeaders,
  BASE,
  decide,
  expectError,
  fetchGate,
  gateRequest,
  gateUrl,
  getGate,
  newRunId,
  postRegister,
  register,
} from '../helpers.ts';

describe('health and routing', () => {
  it('answers health without a token', async () => {
    const res = await SELF.fetch(`${BASE}/healthz`);
    expect(res.status).toBe(200);
    // The tests' relay has a GitHub App (vitest.config.ts); the other answers: test/relay/github/health.test.ts.
    expect(await res.json()).toEqual({ ok: true, githubApp: 'configured', signIn: 'not configured', message: 'GitHub App 424242 at https://api.github.test' });
  });

  it('answers an unknown route with a JSON 404', async () => {
    const body = await expectError(await SELF.fetch(`${BASE}/nope`), 404, 'not_found');
    expect(body.message).toContain('/nope');
    await expectError(await SELF.fetch(`${BASE}/v1/gates`, { headers: authHeaders() }), 404, 'not_found');
    await expectError(
      await SELF.fetch(`${BASE}/v1/runs/cancel`, { method: 'DELETE', headers: authHeaders() }),
      404,
      'not_found',
    );
  });
});

describe('bearer authentication on /v1/*', () => {
  const routes: { name: string; send: (headers: Record<string, string>) => Promise<Response> }[] = [
    { name: 'POST /v1/gates', send: (headers) => postRegister(gateRequest(), headers) },
    {
      name: 'GET /v1/gates/:gateId',
      send: (headers) => SELF.fetch(gateUrl(newRunId(), 'AAAAAAAAAAAAAAAAAAAAAA'), { headers }),
    },
    {
      name: 'POST /v1/runs/targets',
      send: (headers) =>
        SELF.fetch(`${BASE}/v1/runs/targets`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ runId: newRunId(), target: 'staging', attempt: 1, status: 'running' }),
        }),
    },
    {
      name: 'GET /v1/runs/targets',
      send: (headers) => SELF.fetch(`${BASE}/v1/runs/targets?run=${encodeURIComponent(newRunId())}&target=staging`, { headers }),
    },
    {
      name: 'POST /v1/runs/cancel',
      send: (headers) =>
        SELF.fetch(`${BASE}/v1/runs/cancel`, { method: 'POST', headers, body: JSON.stringify({ runId: newRunId() }) }),
    },
  ];
  const badHeaders: [string, Record<string, string>][] = [
    ['missing', { 'content-type': 'application/json' }],
    ['wrong', authHeaders('test-relay-tokeX')],
    ['shorter', authHeaders('test-relay')],
    ['longer', authHeaders('test-relay-token-and-more')],
    ['empty', { authorization: 'Bearer ', 'content-type': 'application/json' }],
    ['not bearer', { authorization: 'Basic dGVzdC1yZWxheS10b2tlbg==', 'content-type': 'application/json' }],
    ['bare token', { authorization: 'test-relay-token', 'content-type': 'application/json' }],
  ];

  for (const route of routes) {
    for (const [label, headers] of badHeaders) {
      it(`${route.name}: ${label} token → 401`, async () => {
        await expectError(await route.send(headers), 401, 'unauthorized');
      });
    }
  }

  it('refuses an unauthenticated register without creating the gate', async () => {
    const request = gateRequest();
    await expectError(await postRegister(request, { 'content-type': 'application/json' }), 401, 'unauthorized');
    const ids = await listDurableObjectIds(env.RUNS);
    const runObjectId = env.RUNS.idFromName(request.runId);
    expect(ids.some((id) => id.equals(runObjectId))).toBe(false);
  });

  it('accepts the right token (scheme in any case)', async () => {
    const res = await postRegister(gateRequest(), { ...authHeaders(), authorization: 'bearer test-relay-token' });
    expect(res.status).toBe(201);
  });

  it('answers 503 JSON when the relay has neither RELAY_TOKEN nor ALLOWED_REPOSITORIES, or no CALLBACK_SECRET', async () => {
    const init = { method: 'POST', headers: authHeaders(), body: JSON.stringify(gateRequest()) };
    await expectError(
      await app.request(`${BASE}/v1/gates`, init, { ...env, RELAY_TOKEN: undefined, ALLOWED_REPOSITORIES: undefined }),
      503,
      'misconfigured',
    );
    await expectError(
      await app.request(`${BASE}/v1/gates`, init, { ...env, RELAY_TOKEN: '', ALLOWED_REPOSITORIES: ' , ' }),
      503,
      'misconfigured',
    );
    await expectError(
      await app.request(`${BASE}/v1/gates`, init, { ...env, CALLBACK_SECRET: undefined }),
      503,
      'misconfigured',
    );
  });
});

describe('POST /v1/gates (register)', () => {
  it('creates a gate: 201 with gate id, callback URI and deadline', async () => {
    const request = gateRequest({ timeoutSeconds: 7200 });
    const before = Date.now();
    const res = await postRegister(request);
    const after = Date.now();
    expect(res.status).toBe(201);
    const gate = RegisterGateResponse.parse(await res.json());
    expect(gate).toMatchObject({
      runId: request.runId,
      stepKey: request.stepKey,
      target: 'staging',
      phase: 'beforeDeployment',
      name: 'Update-Database-Schema',
      state: 'pending',
      message: null,
      decidedAt: null,
      progress: [],
      created: true,
      kind: 'webhook',
      attempt: 1,
      decidedBy: null,
      approvalUrl: null,
    });
    expect(gate.callbackUri.startsWith(`${BASE}/cb/`)).toBe(true);
    expect(gate.deadline).toBeGreaterThanOrEqual(before + 7200_000 - 1000);
    expect(gate.deadline).toBeLessThanOrEqual(after + 7200_000 + 1000);
    expect(gate.deadline - gate.createdAt).toBe(7200_000);
  });

  it('is idempotent per run and step key: 200, same gate, same callback URI', async () => {
    const first = await register();
    expect(first.status).toBe(201);
    const again = await register({ ...first.request, timeoutSeconds: 60, name: 'Renamed' });
    expect(again.status).toBe(200);
    expect(again.created).toBe(false);
    expect(again.gateId).toBe(first.gateId);
    expect(again.callbackUri).toBe(first.callbackUri);
    expect(again.deadline).toBe(first.deadline);
  });

  it('returns the same gate to concurrent retries of one registration', async () => {
    const request = gateRequest();
    const answers = await Promise.all(Array.from({ length: 5 }, () => postRegister(request)));
    expect(answers.map((res) => res.status).sort()).toEqual([200, 200, 200, 200, 201]);
    const gates = await Promise.all(answers.map(async (res) => RegisterGateResponse.parse(await res.json())));
    expect(new Set(gates.map((gate) => gate.gateId)).size).toBe(1);
    expect(new Set(gates.map((gate) => gate.callbackUri)).size).toBe(1);
  });

  it('gives another step key of the same run another gate', async () => {
    const first = await register();
    const second = await register({ runId: first.runId, stepKey: 'staging/afterDeployment/0/Run-Tests' });
    expect(second.status).toBe(201);
    expect(second.gateId).not.toBe(first.gateId);
    expect(second.callbackUri).not.toBe(first.callbackUri);
  });

  it('isolates runs: same step key in two runs makes two gates that do not see each other', async () => {
    const a = await register();
    const b = await register({ runId: newRunId() });
    expect(b.status).toBe(201);
    expect(b.gateId).not.toBe(a.gateId);
    await expectError(await fetchGate(b.runId, a.gateId), 404, 'not_found');
    await decide(a.callbackUri, { success: false });
    expect((await getGate(a.runId, a.gateId)).state).toBe('failed');
    expect((await getGate(b.runId, b.gateId)).state).toBe('pending');
  });

  it('accepts valid JSON sent with another content type (curl -d)', async () => {
    const res = await postRegister(JSON.stringify(gateRequest()), {
      authorization: 'Bearer test-relay-token',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(201);
    const noType = await SELF.fetch(`${BASE}/v1/gates`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-relay-token' },
      body: new TextEncoder().encode(JSON.stringify(gateRequest())),
    });
    expect(noType.status).toBe(201);
  });

  const invalid: [string, (valid: Record<string, unknown>) => unknown, string][] = [
    ['missing runId', ({ runId: _, ...rest }) => rest, 'runId'],
    ['missing stepKey', ({ stepKey: _, ...rest }) => rest, 'stepKey'],
    ['missing timeoutSeconds', ({ timeoutSeconds: _, ...rest }) => rest, 'timeoutSeconds'],
    ['timeoutSeconds as a string', (valid) => ({ ...valid, timeoutSeconds: '60' }), 'timeoutSeconds'],
    ['timeoutSeconds zero', (valid) => ({ ...valid, timeoutSeconds: 0 }), 'timeoutSeconds'],
    ['timeoutSeconds fractional', (valid) => ({ ...valid, timeoutSeconds: 1.5 }), 'timeoutSeconds'],
    ['timeoutSeconds over 30 days', (valid) => ({ ...valid, timeoutSeconds: 30 * 86400 + 1 }), 'timeoutSeconds'],
    ['phase unknown', (valid) => ({ ...valid, phase: 'deploy' }), 'phase'],
    ['target a number', (valid) => ({ ...valid, target: 7 }), 'target'],
    ['runId with a space', (valid) => ({ ...valid, runId: 'acme/app 1' }), 'runId'],
    ['name empty', (valid) => ({ ...valid, name: '' }), 'name'],
    ['an extra field', (valid) => ({ ...valid, extra: true }), 'extra'],
  ];
  for (const [label, mutate, field] of invalid) {
    it(`answers 400 naming the field: ${label}`, async () => {
      const body = mutate({ ...gateRequest() });
      const error = await expectError(await postRegister(body), 400, 'bad_request');
      expect(error.message).toContain(field);
    });
  }

  it('answers 400 to a body that is not JSON, is empty, or is not an object', async () => {
    const notJson = await expectError(await postRegister('runId=x&stepKey=y'), 400, 'bad_request');
    expect(notJson.message).toMatch(/not JSON/);
    await expectError(await postRegister(''), 400, 'bad_request');
    await expectError(await postRegister('[]'), 400, 'bad_request');
    await expectError(await postRegister('null'), 400, 'bad_request');
  });

  it('answers 413 to a body over 64 KiB', async () => {
    const body = JSON.stringify({ ...gateRequest(), name: 'x'.repeat(MAX_BODY_BYTES) });
    const error = await expectError(await postRegister(body), 413, 'payload_too_large');
    expect(error.message).toContain(String(MAX_BODY_BYTES));
  });

  it('builds callback URIs on PUBLIC_URL when it is set', async () => {
    const request = gateRequest();
    const res = await app.request(
      'http://127.0.0.1:8787/v1/gates',
      { method: 'POST', headers: authHeaders(), body: JSON.stringify(request) },
      { ...env, PUBLIC_URL: 'https://hooks.example.com/' },
    );
    expect(res.status).toBe(201);
    const gate = RegisterGateResponse.parse(await res.json());
    expect(gate.callbackUri).toMatch(/^https:\/\/hooks\.example\.com\/cb\/[^/]+$/);
  });
});
