/**
 * OIDC end to end: a relay that knows no shared secret admits the action by the
 * GitHub Actions OIDC token the runner hands out, and keeps each run to the
 * repository that created it. The issuer is a local stand-in for GitHub's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateView } from '../../shared/protocol.ts';
import { githubClaims, signClaims, startOidcIssuer } from '../support/oidc-issuer.ts';
import type { OidcIssuer } from '../support/oidc-issuer.ts';
import { callbackUriOf, oneGate, runIdOf, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { Started } from './started.ts';

const OWNER = { repository: 'acme/potato-facts', repositoryId: '1001' };
const NEIGHBOUR = { repository: 'acme/other-app', repositoryId: '2002' };

let issuer: OidcIssuer;
let h: Harness;
const started = new Started();
beforeAll(async () => {
  issuer = await started.add(() => startOidcIssuer(OWNER), (oidc) => oidc.close());
  // No RELAY_TOKEN at all: OIDC is the only way in. `acme/*` admits both of acme's repositories.
  h = await started.add(
    () => startHarness({ ownRelay: { relayToken: '', vars: issuer.relayVars('acme/*') } }),
    (harness) => harness.close(),
  );
});
afterAll(() => started.stopAll());

/** A request to the relay's action API with a token minted for `repo` (the running action keeps getting OWNER's). */
async function asRepository(repo: typeof OWNER, path: string, init: RequestInit = {}): Promise<Response> {
  const token = await signClaims(issuer.key, githubClaims(issuer.url, h.relay.url, repo));
  return fetch(`${h.relay.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
}

describe('OIDC', () => {
  it('runs the action with the job’s OIDC token, a fresh one for every relay request, audience = the relay', async () => {
    const ws = await h.workspace(oneGate('Check', 'decision=success&delayMs=300'));
    const before = issuer.tokenRequests.length;
    const run = await ws.run({ 'relay-token': '' }, issuer.env());
    expect(run.outputs.result, run.stdout).toBe('succeeded');
    const requests = issuer.tokenRequests.slice(before);
    // register, at least one long-poll, running + succeeded records: each with its own token.
    expect(requests.length).toBeGreaterThanOrEqual(4);
    expect(new Set(requests.map((r) => r.audience))).toEqual(new Set([h.relay.url]));
    expect(requests.every((r) => r.authorized)).toBe(true);
    expect(issuer.jwksRequests).toBeGreaterThan(0);
  });

  it('keeps a run to its repository: another one can neither read, register into, report nor cancel it', async () => {
    const deploymentId = runIdOf('owned');
    const ws = await h.workspace(oneGate('Check', 'decision=none'));
    const action = await ws.start({ 'relay-token': '', 'deployment-id': deploymentId }, issuer.env());
    await action.waitForOutput(/Waiting for the callback of Check/);
    // A callback token is <run>.<gate id>.<mac>.
    const gateId = new URL(callbackUriOf(h.external, '/hooks/Check')).pathname.split('/')[2]?.split('.')[1] ?? '';
    expect(gateId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const run = encodeURIComponent(deploymentId);
    const attempts = [
      await asRepository(NEIGHBOUR, `/v1/gates/${gateId}?run=${run}&wait=0`),
      await asRepository(NEIGHBOUR, '/v1/runs/cancel', { method: 'POST', body: JSON.stringify({ runId: deploymentId }) }),
      await asRepository(NEIGHBOUR, '/v1/runs/targets', {
        method: 'POST',
        body: JSON.stringify({ runId: deploymentId, target: 'staging', attempt: 1, status: 'failed' }),
      }),
      await asRepository(NEIGHBOUR, `/v1/runs/targets?run=${run}&target=staging&wait=0`),
      await asRepository(NEIGHBOUR, '/v1/gates', {
        method: 'POST',
        body: JSON.stringify({ runId: deploymentId, stepKey: 'x', target: 'staging', phase: 'beforeDeployment', name: 'x', timeoutSeconds: 60 }),
      }),
    ];
    for (const answer of attempts) {
      expect(answer.status).toBe(403);
      expect(await answer.json()).toMatchObject({ error: 'forbidden' });
    }

    // The owner's gate is untouched: still pending, then decided by its callback as usual.
    const own = GateView.parse(await (await asRepository(OWNER, `/v1/gates/${gateId}?run=${run}&wait=0`)).json());
    expect(own.state).toBe('pending');
    const answer = await fetch(callbackUriOf(h.external, '/hooks/Check'), { method: 'POST', body: '{"success": true}' });
    expect(answer.status).toBe(200);
    expect((await action.done).outputs.result).toBe('succeeded');
  });

  it('refuses a repository the relay does not admit, naming it', async () => {
    const ws = await h.workspace(oneGate('Check', 'decision=success'));
    issuer.actAs({ repository: 'evil/fork', repositoryId: '666' });
    try {
      const run = await ws.run({ 'relay-token': '' }, issuer.env());
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toMatch(/relay answered 403: repository evil\/fork is not allowed on this relay/);
      expect(h.external.webhooks.some((w) => w.body.includes('evil'))).toBe(false);
    } finally {
      issuer.actAs(OWNER);
    }
  });

  it('without relay-token and without id-token permission, says how to fix it before doing anything', async () => {
    const ws = await h.workspace(oneGate('Check', 'decision=success'));
    const run = await ws.run({ 'relay-token': '' });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain('add `permissions: id-token: write` to the job');
  });

  it('refuses a token minted for another audience', async () => {
    const token = await issuer.mint({ aud: 'https://some-other-relay.example' });
    const answer = await fetch(`${h.relay.url}/v1/runs/targets?run=x&target=y`, { headers: { authorization: `Bearer ${token}` } });
    expect(answer.status).toBe(401);
    expect((await answer.json()) as { message: string }).toMatchObject({ error: 'unauthorized' });
  });
});
