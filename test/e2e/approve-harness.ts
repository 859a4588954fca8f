/**
 * The world of the issue-12 tests: a fake GitHub that is the relay's GitHub App's GitHub (App
 * JWT and installation tokens, sign-in with PKCE, users, a team, repository roles, the protection
 * rule's review), a relay of the test file's own pointed at it (GITHUB_SERVER_URL and
 * GITHUB_API_URL) with sign-in and the webhook secret configured, and Chromium, one browser
 * context per person so each has their own cookies.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { RESUME_INPUT, RunView } from '../../shared/park.ts';
import { freePort } from '../../scripts/local-relay.ts';
import { WORKFLOW_FILE, startAction } from '../../scripts/run-action.ts';
import type { ActionProcess, RunnerJob } from '../../scripts/run-action.ts';
import { launchBrowser } from '../support/browser.ts';
import { deliverWebhook, startFakeGitHub } from '../support/github-api.ts';
import type { Delivery, DeliveryAnswer, FakeGitHub, FakePeople } from '../support/github-api.ts';
import { SECRET, startHarness } from './harness.ts';
import type { Harness, Workspace } from './harness.ts';
import { Started } from './started.ts';

export const APP_ID = '424242';
export const REPOSITORY = 'acme/potato-facts';
export const WEBHOOK_SECRET = 'e2e-webhook-secret-7d1f0b';
const CLIENT = { clientId: 'Iv23liE2eApproveClient', clientSecret: 'e2e-client-secret-5c2a91' };

/**
 * mona, hubot and lisa are in @acme/release-team and may write; octocat (the runner's GITHUB_ACTOR)
 * administers the repository; eve only reads it and is in no team.
 */
export const PEOPLE: FakePeople = {
  users: ['mona', 'hubot', 'lisa', 'octocat', 'eve'],
  teams: { '@acme/release-team': ['mona', 'hubot', 'lisa'] },
  roles: { [REPOSITORY]: { mona: 'write', hubot: 'maintain', lisa: 'write', octocat: 'admin' } },
};

/** Someone at the approval pages in their own browser context (their own cookies). */
export interface Person {
  login: string;
  context: BrowserContext;
  /** Opens `url`; signs in with GitHub first (the fake's "Sign in as" page) when the page offers it. */
  open(url: string): Promise<Page>;
  /** The Cookie header this person's browser would send to `url` (cookies are by path: the anti-forgery one is under /approve). */
  cookieHeader(url: string): Promise<string>;
}

export interface ApproveWorld {
  h: Harness;
  github: FakeGitHub;
  /** Null when the world was started without one. */
  browser: Browser | null;
  /** Starts a hookgate step of `runner`'s run (a new run by default) in `ws`; `env` over the runner's. */
  start(ws: Workspace, extra?: Record<string, string>, env?: Record<string, string>, runner?: RunnerJob): Promise<ActionProcess>;
  /** A person with a fresh browser context. */
  person(login: string): Promise<Person>;
  /** Delivers a webhook to the relay's `POST /github/webhook`, signed with its secret unless `signature` says otherwise. */
  deliver(event: string, payload: unknown, signature?: Delivery['signature']): Promise<DeliveryAnswer>;
  /** GET /v1/runs?run=: the run view. */
  runView(deploymentId: string): Promise<RunView>;
  close(): Promise<void>;
}

/** Starts the fake GitHub, the relay pointed at it, and Chromium (unless `withBrowser` is false); a failed start leaves nothing running. */
export async function startApproveWorld(withBrowser = true): Promise<ApproveWorld> {
  const started = new Started();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const port = await freePort();
  const relayUrl = `http://127.0.0.1:${port}`;
  const app = { id: APP_ID, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), repositories: [REPOSITORY] };
  const oauth = { ...CLIENT, callbackUrls: [`${relayUrl}/auth/github/callback`] };
  const github = await started.add(() => startFakeGitHub('ghs_unusedActionsToken', { app, oauth, people: PEOPLE }), (fake) => fake.close());
  github.registerWorkflow({ repository: REPOSITORY, file: WORKFLOW_FILE, inputs: { [RESUME_INPUT]: {} } });
  const vars = {
    GITHUB_API_URL: github.url,
    GITHUB_SERVER_URL: github.url,
    GITHUB_APP_ID: APP_ID,
    GITHUB_APP_PRIVATE_KEY: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    GITHUB_APP_CLIENT_ID: CLIENT.clientId,
    GITHUB_APP_CLIENT_SECRET: CLIENT.clientSecret,
    GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
    RESUME_RETRY_SECONDS: '60',
  };
  const h = await started.add(() => startHarness({ ownRelay: { port, vars } }), (harness) => harness.close());
  const browser = withBrowser ? await started.add(launchBrowser, (chromium) => chromium.close()) : null;
  return {
    h,
    github,
    browser,
    start: (ws, extra = {}, env = {}, runner) =>
      startAction({
        workspace: ws.dir,
        ...(runner ? { job: runner } : {}),
        inputs: { 'relay-url': h.relay.url, 'relay-token': h.relay.relayToken, secrets: JSON.stringify({ api_token: SECRET }), ...extra },
        env,
      }),
    async person(login) {
      if (!browser) throw new Error('this world has no browser: startApproveWorld(true)');
      return personIn(await browser.newContext(), login);
    },
    deliver: (event, payload, signature) => deliverWebhook({ url: `${relayUrl}/github/webhook`, secret: WEBHOOK_SECRET, event, payload, appId: APP_ID, ...(signature ? { signature } : {}) }),
    async runView(deploymentId) {
      const answer = await fetch(`${relayUrl}/v1/runs?run=${encodeURIComponent(deploymentId)}`, { headers: { authorization: `Bearer ${h.relay.relayToken}` } });
      if (answer.status !== 200) throw new Error(`GET /v1/runs answered ${answer.status}: ${await answer.text()}`);
      return RunView.parse(await answer.json());
    },
    close: () => started.stopAll(),
  };
}

function personIn(context: BrowserContext, login: string): Person {
  return {
    login,
    context,
    async open(url) {
      const page = await context.newPage();
      await page.goto(url);
      const signIn = page.getByRole('link', { name: 'Sign in with GitHub' });
      if ((await signIn.count()) > 0) {
        await signIn.click();
        // The fake's "Sign in as" page, then back through the relay's callback to the approval page.
        await page.locator(`button[name="login"][value="${login}"]`).click();
        await page.waitForURL((at) => at.href.startsWith(url), { timeout: 15_000 }).catch(async () => {
          const text = (await page.locator('body').innerText().catch(() => '')).slice(0, 500);
          throw new Error(`signing in as ${login} did not come back to the approval page: at ${page.url()}: ${text}`);
        });
      }
      return page;
    },
    async cookieHeader(url) {
      return (await context.cookies(url)).map((c) => `${c.name}=${c.value}`).join('; ');
    },
  };
}

/** The hidden anti-forgery field of an approval page's form, or null without a form. */
export async function csrfOf(page: Page): Promise<string | null> {
  const field = page.locator('form input[name="csrf"]');
  return (await field.count()) > 0 ? field.getAttribute('value') : null;
}

/** A decision POSTed by hand to `url` with `cookie` and `csrf`, as a crafted request would; its status. */
export async function craftedPost(url: string, cookie: string, csrf: string, decision: 'approve' | 'reject' = 'approve'): Promise<number> {
  const answer = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(url).origin, ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams({ csrf, decision, comment: 'crafted' }),
    redirect: 'manual',
  });
  await answer.arrayBuffer();
  return answer.status;
}

/** The `name=value` of one cookie of a Cookie header, or '' when it has none of that name. */
export function cookieOf(header: string, name: string): string {
  return header.split('; ').find((part) => part.startsWith(`${name}=`)) ?? '';
}
