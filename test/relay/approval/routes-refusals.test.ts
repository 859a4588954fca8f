/** The approval page's routes (relay/approval/routes.ts, SPEC §4): anti-forgery, bad requests, and callbacks on approval gates. */
import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../../../relay/worker/app.ts';
import { RegisterGateResponse } from '../../../shared/protocol.ts';
import {
  alterChar,
  approvalRequest,
  authHeaders,
  BASE,
  decideOnPage,
  expectPageHeaders,
  getGate,
  openApproval,
  postApproval,
  postCallback,
  registerApproval,
  submitPage,
  tokenOf,
} from '../helpers.ts';

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
    expect(await res.text()).toContain('CALLBACK_SECRET');
  });
});

describe('callbacks on approval gates', () => {
  it('are answered exactly as an unknown token is, and change nothing: only the page decides', async () => {
    const gate = await registerApproval();
    const forged = await postCallback(`${BASE}/cb/${alterChar(tokenOf(gate.callbackUri), 30)}`, { success: true });
    const unknown = { status: forged.status, type: forged.headers.get('content-type'), body: await forged.text() };
    expect(unknown.status).toBe(404);
    const bodies = [{ success: true, mdMessage: 'approved in the change desk' }, { success: false }, { progress: true, mdMessage: 'busy' }];
    for (const body of bodies) {
      for (const uri of [gate.callbackUri, `${gate.callbackUri}/callback`]) {
        const res = await postCallback(uri, body);
        expect({ status: res.status, type: res.headers.get('content-type'), body: await res.text() }).toEqual(unknown);
      }
    }
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'pending', message: null, decidedBy: null, progress: [] });
    expect((await openApproval(gate.approvalUrl)).html).not.toContain('approved in the change desk');
    await decideOnPage(gate.approvalUrl, 'approve', { approver: 'Ada' });
    expect(await getGate(gate.runId, gate.gateId)).toMatchObject({ state: 'succeeded', decidedBy: 'Ada' });
  });
});
