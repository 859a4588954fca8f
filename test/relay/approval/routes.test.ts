/** The approval page's routes (relay/approval/routes.ts, SPEC §4): who may decide, how, and what each answer is. */
import { env, runDurableObjectAlarm, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../../../relay/worker/app.ts';
import { mintCsrf } from '../../../relay/approval/csrf.ts';
import { mintGateToken } from '../../../relay/tokens/gate-token.ts';
import { RegisterGateResponse } from '../../../shared/protocol.ts';
import {
  alterChar,
  approvalRequest,
  approvalTokenOf,
  authHeaders,
  BASE,
  CALLBACK_SECRET,
  decide,
  decideOnPage,
  expectError,
  expectPageHeaders,
  expireInStorage,
  getGate,
  openApproval,
  postApproval,
  postCallback,
  register,
  registerApproval,
  runStub,
  sleep,
  submitPage,
  TOKEN_CALLER,
  tokenOf,
} from '../helpers.ts';

describe('GET /approve/:token', () => {
  it('shows the page with the security headers and sets the anti-forgery cookie', async () => {
    const gate = await registerApproval();
    expect(gate.approvalUrl).toMatch(/^https:\/\/relay\.test\/approve\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    const page = await openApproval(gate.approvalUrl);
    expect(page.res.status).toBe(200);
    expectPageHeaders(page.res);
    const cookie = page.res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^hookgate_csrf=[A-Za-z0-9_-]{22}; Path=\/approve; HttpOnly; SameSite=Strict; Secure$/);
    expect(page.csrf).toBe(await mintCsrf(CALLBACK_SECRET, gate.gateId, page.nonce ?? ''));
  });

  it('leaves Secure off the cookie over plain http', async () => {
    const request = approvalRequest();
    const init = { method: 'POST', headers: authHeaders(), body: JSON.stringify(request) };
    const res = await app.request('http://127.0.0.1:8787/v1/gates', init, env);
    const gate = RegisterGateResponse.parse(await res.json());
    expect(gate.approvalUrl).toMatch(/^http:\/\/127\.0\.0\.1:8787\/approve\//);
    const page = await app.request(gate.approvalUrl ?? '', {}, env);
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toMatch(/^hookgate_csrf=[A-Za-z0-9_-]{22}; Path=\/approve; HttpOnly; SameSite=Strict$/);
  });

  it('keeps a browser’s nonce, so two approval pages open side by side both work', async () => {
    const first = await registerApproval();
    const second = await registerApproval({ runId: first.runId, stepKey: 'prod/beforeDeployment/1/second-approval' });
    const a = await openApproval(first.approvalUrl);
    const b = await openApproval(second.approvalUrl, `hookgate_csrf=${a.nonce}`);
    expect(b.nonce).toBe(a.nonce);
    expect((await submitPage(first.approvalUrl, a, { decision: 'approve' })).status).toBe(303);
    expect((await submitPage(second.approvalUrl, { ...b, nonce: a.nonce }, { decision: 'reject' })).status).toBe(303);
    expect((await getGate(first.runId, first.gateId)).state).toBe('succeeded');
    expect((await getGate(second.runId, second.gateId)).state).toBe('failed');
  });

  it('replaces a malformed cookie with a fresh nonce', async () => {
    const gate = await registerApproval();
    const page = await openApproval(gate.approvalUrl, 'hookgate_csrf=short; other=1');
    expect(page.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('never decides, however often it is fetched (link scanners cannot approve)', async () => {
    const gate = await registerApproval();
    for (let index = 0; index < 3; index += 1) expect((await openApproval(gate.approvalUrl)).res.status).toBe(200);
    expect((await SELF.fetch(gate.approvalUrl, { method: 'HEAD' })).status).toBe(200);
    expect((await SELF.fetch(`${gate.approvalUrl}?decision=approve&csrf=x`)).status).toBe(200);
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'pending', decidedBy: null, decidedAt: null });
  });
});

describe('approval tokens', () => {
  async function expectNotFound(url: string): Promise<void> {
    const get = await SELF.fetch(url);
    expect(get.status).toBe(404);
    expectPageHeaders(get);
    expect(await get.text()).toContain('not valid');
    const post = await postApproval(url, { decision: 'approve', csrf: 'x' }, { origin: BASE });
    expect(post.status).toBe(404);
    expectPageHeaders(post);
  }

  it('answers 404 HTML to forged and malformed tokens', async () => {
    for (const token of ['x', 'abc.def.ghi', crypto.randomUUID(), 'a'.repeat(700), 'a.b', '%00']) {
      await expectNotFound(`${BASE}/approve/${token}`);
    }
  });

  it('answers 404 to an approval token with any part altered, and the gate stays pending', async () => {
    const gate = await registerApproval();
    const token = approvalTokenOf(gate.approvalUrl);
    const [runPart = '', gatePart = ''] = token.split('.');
    for (const index of [2, runPart.length + 3, runPart.length + gatePart.length + 5, token.length - 1]) {
      await expectNotFound(gate.approvalUrl.replace(token, alterChar(token, index)));
    }
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });

  it('does not take a callback token as an approval token, nor the other way round', async () => {
    const gate = await registerApproval();
    const callbackToken = tokenOf(gate.callbackUri);
    const approvalToken = approvalTokenOf(gate.approvalUrl);
    expect(callbackToken).not.toBe(approvalToken);
    expect(callbackToken.split('.').slice(0, 2)).toEqual(approvalToken.split('.').slice(0, 2));
    await expectNotFound(`${BASE}/approve/${callbackToken}`);
    await expectError(await postCallback(`${BASE}/cb/${approvalToken}`, { success: true }), 404, 'not_found');
    await expectError(await postCallback(`${BASE}/cb/${approvalToken}/callback`, { success: true }), 404, 'not_found');
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });

  it('gives a webhook gate no approval URL, and a minted approval token for it shows no page', async () => {
    const gate = await register();
    expect(gate.approvalUrl).toBeNull();
    const url = `${BASE}/approve/${await mintGateToken(CALLBACK_SECRET, 'approval', gate.runId, gate.gateId)}`;
    expect((await SELF.fetch(url)).status).toBe(404);
    const nonce = 'AAAAAAAAAAAAAAAAAAAAAA';
    const csrf = await mintCsrf(CALLBACK_SECRET, gate.gateId, nonce);
    expect((await postApproval(url, { csrf, decision: 'approve' }, { nonce, origin: BASE })).status).toBe(404);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });

  it('keeps the approval URL across idempotent registrations', async () => {
    const gate = await registerApproval();
    const again = await register(gate.request);
    expect(again).toMatchObject({ created: false, approvalUrl: gate.approvalUrl, callbackUri: gate.callbackUri });
  });

  it('builds approval URLs on PUBLIC_URL when it is set', async () => {
    const res = await app.request(
      'http://127.0.0.1:8787/v1/gates',
      { method: 'POST', headers: authHeaders(), body: JSON.stringify(approvalRequest()) },
      { ...env, PUBLIC_URL: 'https://hooks.example.com/' },
    );
    expect(RegisterGateResponse.parse(await res.json()).approvalUrl).toMatch(/^https:\/\/hooks\.example\.com\/approve\/[^/]+$/);
  });
});

describe('POST /approve/:token (the decision)', () => {
  it('approves: 303 back to the page, succeeded with who and the comment, seen by a waiting long-poll', async () => {
    const gate = await registerApproval();
    const poll = getGate(gate.runId, gate.gateId, 10);
    await sleep(100);
    const page = await openApproval(gate.approvalUrl);
    const started = Date.now();
    const res = await postApproval(
      gate.approvalUrl,
      { csrf: page.csrf ?? '', decision: 'approve', approver: '  Ada Lovelace ', comment: 'Ship it.\r\nChange CHG-1 is approved.' },
      { nonce: page.nonce, origin: BASE },
    );
    expect(res.status).toBe(303);
    expectPageHeaders(res);
    expect(res.headers.get('location')).toBe(new URL(gate.approvalUrl).pathname);
    const view = await poll;
    expect(Date.now() - started).toBeLessThan(1500);
    expect(view).toMatchObject({ state: 'succeeded', decidedBy: 'Ada Lovelace', message: 'Ship it.\nChange CHG-1 is approved.' });
    expect(view.decidedAt).not.toBeNull();

    const after = await openApproval(gate.approvalUrl);
    expect(after.html).toContain('approved</span> by <strong>Ada Lovelace</strong>');
    expect(after.html).toContain('Change CHG-1 is approved.');
    expect(after.html).not.toContain('<form');
  });

  it('rejects: failed, anonymous without a name, no message without a comment', async () => {
    const gate = await registerApproval();
    await decideOnPage(gate.approvalUrl, 'reject', { approver: '   ', comment: '  ' });
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'failed', decidedBy: 'anonymous', message: null });
  });

  it('works without an Origin header (older browsers) and with the relay’s own', async () => {
    const gate = await registerApproval();
    const page = await openApproval(gate.approvalUrl);
    const res = await postApproval(gate.approvalUrl, { csrf: page.csrf ?? '', decision: 'approve' }, { nonce: page.nonce });
    expect(res.status).toBe(303);
  });

  it('lets the first decision win: a second one gets 409 with the recorded decision and no form', async () => {
    const gate = await registerApproval();
    await decideOnPage(gate.approvalUrl, 'approve', { approver: 'Ada' });
    const page = await openApproval(gate.approvalUrl);
    const csrf = await mintCsrf(CALLBACK_SECRET, gate.gateId, page.nonce ?? '');
    for (const decision of ['reject', 'approve']) {
      const res = await submitPage(gate.approvalUrl, { ...page, csrf }, { decision, approver: 'Mallory' });
      expect(res.status).toBe(409);
      expectPageHeaders(res);
      const html = await res.text();
      expect(html).toContain('already decided');
      expect(html).toContain('by <strong>Ada</strong>');
      expect(html).not.toContain('Mallory');
      expect(html).not.toContain('<form');
    }
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'succeeded', decidedBy: 'Ada' });
    // A callback's decision after the page's is refused like any second decision.
    await expectError(await postCallback(gate.callbackUri, { success: false }), 409, 'conflict');
  });

  it('answers 410 after the deadline, even before the alarm ran', async () => {
    const gate = await registerApproval();
    const page = await openApproval(gate.approvalUrl);
    await expireInStorage(gate.runId, gate.gateId);
    const res = await submitPage(gate.approvalUrl, page, { decision: 'approve' });
    expect(res.status).toBe(410);
    expectPageHeaders(res);
    expect(await res.text()).toContain('timed-out');
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'timed-out', decidedBy: null });
  });

  it('answers 410 once the run was canceled', async () => {
    const gate = await registerApproval();
    const page = await openApproval(gate.approvalUrl);
    await runStub(gate.runId).cancelRun(TOKEN_CALLER, 'the job was canceled');
    const res = await submitPage(gate.approvalUrl, page, { decision: 'approve' });
    expect(res.status).toBe(410);
    expect(await res.text()).toContain('canceled');
  });

  it('expires at its deadline like any gate: the alarm stores timed-out', async () => {
    const gate = await registerApproval({ timeoutSeconds: 600 });
    await expireInStorage(gate.runId, gate.gateId);
    expect(await runDurableObjectAlarm(runStub(gate.runId))).toBe(true);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('timed-out');
    const page = await openApproval(gate.approvalUrl);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('state-timed-out');
    expect(page.html).not.toContain('<form');
  });
});

describe('anti-forgery', () => {
  async function expectForbidden(res: Response, runId: string, gateId: string): Promise<void> {
    expect(res.status).toBe(403);
    expectPageHeaders(res);
    expect(await res.text()).toContain('reload');
    expect((await getGate(runId, gateId)).state).toBe('pending');
  }

  it('refuses a POST without the cookie', async () => {
    const gate = await registerApproval();
    const page = await openApproval(gate.approvalUrl);
    const res = await postApproval(gate.approvalUrl, { csrf: page.csrf ?? '', decision: 'approve' }, { origin: BASE });
    await expectForbidden(res, gate.runId, gate.gateId);
  });

  it('refuses a missing, wrong, altered or repeated csrf field', async () => {
    const gate = await registerApproval();
    const page = await openApproval(gate.approvalUrl);
    const csrf = page.csrf ?? '';
    const bodies: Record<string, string>[] = [
      { decision: 'approve' },
      { decision: 'approve', csrf: '' },
      { decision: 'approve', csrf: 'not-a-token' },
      { decision: 'approve', csrf: alterChar(csrf, 5) },
      { decision: 'approve', csrf: `${csrf}A` },
    ];
    for (const body of bodies) {
      const res = await postApproval(gate.approvalUrl, body, { nonce: page.nonce, origin: BASE });
      await expectForbidden(res, gate.runId, gate.gateId);
    }
    const repeated = await SELF.fetch(gate.approvalUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `hookgate_csrf=${page.nonce}` },
      body: `csrf=${csrf}&csrf=${csrf}&decision=approve`,
      redirect: 'manual',
    });
    await expectForbidden(repeated, gate.runId, gate.gateId);
  });

  it('refuses the csrf of another nonce (another browser’s page)', async () => {
    const gate = await registerApproval();
    const mine = await openApproval(gate.approvalUrl);
    const theirs = await openApproval(gate.approvalUrl);
    expect(theirs.nonce).not.toBe(mine.nonce);
    await expectForbidden(
      await submitPage(gate.approvalUrl, { ...theirs, nonce: mine.nonce }, { decision: 'approve' }),
      gate.runId,
      gate.gateId,
    );
  });

  it('refuses the csrf of another gate, same browser', async () => {
    const gate = await registerApproval();
    const other = await registerApproval({ runId: gate.runId, stepKey: 'prod/afterDeployment/0/approval' });
    const otherPage = await openApproval(other.approvalUrl);
    await expectForbidden(
      await submitPage(gate.approvalUrl, otherPage, { decision: 'approve' }),
      gate.runId,
      gate.gateId,
    );
  });

  it('refuses a foreign or null Origin even with a valid cookie and csrf', async () => {
    const gate = await registerApproval();
    const page = await openApproval(gate.approvalUrl);
    for (const origin of ['https://evil.example', 'http://relay.test', 'https://relay.test:8443', 'null']) {
      await expectForbidden(
        await postApproval(gate.approvalUrl, { csrf: page.csrf ?? '', decision: 'approve' }, { nonce: page.nonce, origin }),
        gate.runId,
        gate.gateId,
      );
    }
  });

  it('expects the Origin of PUBLIC_URL when it is set', async () => {
    const publicEnv = { ...env, PUBLIC_URL: 'https://hooks.example.com' };
    const res = await app.request(
      `${BASE}/v1/gates`,
      { method: 'POST', headers: authHeaders(), body: JSON.stringify(approvalRequest()) },
      publicEnv,
    );
    const gate = RegisterGateResponse.parse(await res.json());
    const url = gate.approvalUrl ?? '';
    const page = await app.request(url, {}, publicEnv);
    const nonce = /hookgate_csrf=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const csrf = /name="csrf" value="([^"]*)"/.exec(await page.text())?.[1] ?? '';
    const post = (origin: string) =>
      app.request(
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `hookgate_csrf=${nonce}`, origin },
          body: new URLSearchParams({ csrf, decision: 'approve' }).toString(),
        },
        publicEnv,
      );
    expect((await post(BASE)).status).toBe(403);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
    expect((await post('https://hooks.example.com')).status).toBe(303);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('succeeded');
  });
});

describe('bad requests', () => {
  async function post(url: string, fields: Record<string, string>): Promise<Response> {
    return submitPage(url, await openApproval(url), fields);
  }

  const badFields: [string, Record<string, string>, string][] = [
    ['no decision', { comment: 'hm' }, 'decision'],
    ['an unknown decision', { decision: 'maybe' }, 'decision'],
    ['a comment over 2000 characters', { decision: 'approve', comment: 'x'.repeat(2001) }, 'comment'],
    ['an approver over 100 characters', { decision: 'approve', approver: 'x'.repeat(101) }, 'approver'],
  ];
  for (const [label, fields, field] of badFields) {
    it(`answers 400 HTML naming the field: ${label}`, async () => {
      const gate = await registerApproval();
      const res = await post(gate.approvalUrl, fields);
      expect(res.status).toBe(400);
      expectPageHeaders(res);
      expect(await res.text()).toContain(`${field}:`);
      expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
    });
  }

  it('accepts the longest comment and name, counting CRLF as one character', async () => {
    const gate = await registerApproval();
    const comment = 'line\r\n'.repeat(400);
    expect(comment.replace(/\r\n/g, '\n')).toHaveLength(2000);
    const res = await post(gate.approvalUrl, { decision: 'approve', comment, approver: 'a'.repeat(100) });
    expect(res.status).toBe(303);
  });

  it('answers 413 HTML to a body over 64 KiB and 415 to a body that is not a form', async () => {
    const gate = await registerApproval();
    const page = await openApproval(gate.approvalUrl);
    const big = await postApproval(
      gate.approvalUrl,
      { csrf: page.csrf ?? '', decision: 'approve', comment: 'x'.repeat(70 * 1024) },
      { nonce: page.nonce, origin: BASE },
    );
    expect(big.status).toBe(413);
    expectPageHeaders(big);
    const json = await SELF.fetch(gate.approvalUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `hookgate_csrf=${page.nonce}` },
      body: JSON.stringify({ csrf: page.csrf, decision: 'approve' }),
    });
    expect(json.status).toBe(415);
    expectPageHeaders(json);
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });

  it('answers 405 HTML to other methods', async () => {
    const gate = await registerApproval();
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const res = await SELF.fetch(gate.approvalUrl, { method, body: 'decision=approve' });
      expect(res.status).toBe(405);
      expectPageHeaders(res);
      expect(res.headers.get('allow')).toBe('GET, POST');
    }
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });

  it('answers 503 HTML when the relay has no CALLBACK_SECRET', async () => {
    const gate = await registerApproval();
    const res = await app.request(gate.approvalUrl, {}, { ...env, CALLBACK_SECRET: undefined });
    expect(res.status).toBe(503);
    expectPageHeaders(res);
  });
});

describe('callbacks on approval gates', () => {
  it('decide them too (the action holds the callback URI), with nobody named', async () => {
    const gate = await registerApproval();
    await decide(gate.callbackUri, { success: true, mdMessage: 'approved in the change desk' });
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'succeeded', decidedBy: null });
    const page = await openApproval(gate.approvalUrl);
    expect(page.html).toContain('approved in the change desk');
  });
});
