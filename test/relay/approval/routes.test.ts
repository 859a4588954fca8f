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
    // The gate's callback URI decides nothing, before or after the page.
    await expectError(await postCallback(gate.callbackUri, { success: false }), 404, 'not_found');
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
    await runStub(gate.runId).cancelRun(TOKEN_CALLER, { runId: gate.runId, reason: 'the job was canceled' });
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
