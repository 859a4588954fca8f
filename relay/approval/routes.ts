/**
 * The approval page's routes (SPEC §4), mounted at /approve. Every answer is an HTML
 * page with the headers below. GET only shows; a decision is a same-origin form POST
 * carrying the cookie-bound anti-forgery token.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { MAX_APPROVER_CHARS, MAX_CALLBACKS_PER_GATE_PER_MINUTE, MAX_COMMENT_CHARS } from '../../shared/protocol.ts';
import { approvalPageHtml, messagePage } from './page.ts';
import { csrfCookie, csrfNonce, mintCsrf, readNonce, verifyCsrf } from './csrf.ts';
import { callbackSecret, publicOrigin, relayConfig, soundConfig } from '../worker/config.ts';
import type { Env } from '../worker/env.ts';
import { runObject } from '../worker/env.ts';
import { REFUSAL_STATUS } from '../worker/statuses.ts';
import { verifyGateToken } from '../tokens/gate-token.ts';
import type { GateRef } from '../tokens/gate-token.ts';
import { readBody } from '../worker/http.ts';
import type { ApprovalDecision } from '../run/results.ts';
import { MAX_APPROVALS_PER_GATE } from '../run/approvals.ts';
import { signInSetup } from '../auth/setup.ts';
import { page } from './respond.ts';
import { viewerOf } from './viewer.ts';
import type { ViewerRequest } from './viewer.ts';

type PageContext = Context<{ Bindings: Env }>;

export const approvalRoutes = new Hono<{ Bindings: Env }>();

approvalRoutes.onError((error) => {
  // readBody's 413 and any other refusal keep their status but answer as a page.
  if (error instanceof HTTPException) {
    const text = error.status === 413 ? 'The form is too large.' : error.message;
    const title = error.status === 503 ? 'Relay misconfigured' : 'Request refused';
    return page(error.status, messagePage(title, text));
  }
  console.error('approval page error', error instanceof Error ? error.message : String(error));
  return page(500, messagePage('Something went wrong', 'The relay failed to handle this request. Try again.'));
});

approvalRoutes.get('/:token', async (c) => {
  const secret = callbackSecret(relayConfig(c.env));
  const ref = await verifyGateToken(secret, 'approval', c.req.param('token'));
  if (!ref) return notFound();
  const data = await runObject(c.env, ref.runId).approvalPage(ref.gateId);
  if (!data) return notFound();
  const nonce = csrfNonce(c.req.header('cookie'));
  const csrf = await mintCsrf(secret, ref.gateId, nonce);
  const secure = new URL(c.req.url).protocol === 'https:';
  const viewer = await viewerOf(viewerRequest(c, secret), data);
  return page(200, approvalPageHtml(data, csrf, undefined, viewer), { 'set-cookie': csrfCookie(nonce, secure) });
});

approvalRoutes.post('/:token', async (c) => {
  const config = soundConfig(c.env);
  const secret = callbackSecret(config);
  // A forged token is refused before the body is read, as on callback URIs.
  const ref = await verifyGateToken(secret, 'approval', c.req.param('token'));
  if (!ref) return notFound();
  const origin = c.req.header('origin');
  if (origin !== undefined && origin !== publicOrigin(config, c.req.url)) return forbidden();
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    return page(415, messagePage('Unsupported form', 'Send the decision as the approval page’s form does.'));
  }
  const form = new URLSearchParams(await readBody(c));
  if (!(await verifyCsrf(secret, ref.gateId, readNonce(c.req.header('cookie')), single(form, 'csrf') ?? null))) {
    return forbidden();
  }
  const parsed = parseDecision(form);
  if (typeof parsed === 'string') return page(400, messagePage('Bad request', parsed));
  const checked = await signedInDecision(c, ref, secret, parsed);
  if (checked instanceof Response) return checked;
  const result = await runObject(c.env, ref.runId).approve(ref.gateId, checked);
  // Post/redirect/get: a reload shows the decision instead of posting it again.
  if (result.ok) return page(303, '', { location: new URL(c.req.url).pathname });
  if (result.reason === 'not-found') return notFound();
  if (result.reason === 'rate-limited') {
    const text =
      `This approval took ${MAX_CALLBACKS_PER_GATE_PER_MINUTE} decisions in the last minute, the most it accepts. ` +
      `Nothing was recorded; try again in ${result.retryAfterSeconds} seconds.`;
    return page(REFUSAL_STATUS[result.reason], messagePage('Too many requests', text), {
      'retry-after': String(result.retryAfterSeconds),
    });
  }
  if (result.reason === 'too-many-approvals') {
    const text = `This approval already holds ${result.count} decisions, the most it keeps (${MAX_APPROVALS_PER_GATE}). Nothing was recorded.`;
    return page(422, messagePage('Too many decisions', text));
  }
  return decidedPage(c, ref, result.reason);
});

approvalRoutes.on(['PUT', 'PATCH', 'DELETE', 'OPTIONS'], '/:token', () =>
  page(405, messagePage('Method not allowed', 'Open the approval link in a browser.'), { allow: 'GET, POST' }),
);

/** Already decided, final, or decided by this person already: the page as it stands, with why the decision was not taken. */
async function decidedPage(c: PageContext, ref: GateRef, reason: 'conflict' | 'final' | 'duplicate'): Promise<Response> {
  const data = await runObject(c.env, ref.runId).approvalPage(ref.gateId);
  if (!data) return notFound();
  const notices = {
    conflict: 'Your decision was not recorded: this approval was already decided, and the first decision stands.',
    final: `Your decision was not recorded: this approval is ${data.gate.state}, so nothing waits for it any more.`,
    duplicate: 'Your decision was not recorded: you already decided this approval, and your first decision stands.',
  };
  const viewer = await viewerOf(viewerRequest(c, callbackSecret(relayConfig(c.env))), data);
  return page(reason === 'duplicate' ? 409 : REFUSAL_STATUS[reason], approvalPageHtml(data, '', notices[reason], viewer));
}

/** What viewerOf needs of this request: the session cookie, the relay's origin and the page's own path to return to. */
function viewerRequest(c: PageContext, secret: string): ViewerRequest {
  const config = relayConfig(c.env);
  return { env: c.env, secret, origin: publicOrigin(config, c.req.url), cookie: c.req.header('cookie'), returnPath: new URL(c.req.url).pathname };
}

/**
 * The decision as the run object records it: as typed without sign-in; with sign-in, the
 * signed-in person's, once they may decide. A refusal (misconfigured 503, no session 401, not
 * eligible 403, GitHub unavailable 502) is a page that changes nothing.
 */
async function signedInDecision(c: PageContext, ref: GateRef, secret: string, decision: ApprovalDecision): Promise<ApprovalDecision | Response> {
  const setup = signInSetup(c.env);
  if (setup.status === 'not configured') return decision;
  if (!setup.signIn) return page(503, messagePage('Relay misconfigured', `Nothing was recorded: ${setup.message}.`));
  const data = await runObject(c.env, ref.runId).approvalPage(ref.gateId);
  if (!data) return notFound();
  const viewer = await viewerOf(viewerRequest(c, secret), data);
  if (viewer.signIn !== 'on') return page(503, messagePage('Relay misconfigured', 'Nothing was recorded: sign-in is not available.'));
  if (viewer.person === null) {
    const html = approvalPageHtml(data, '', 'Nothing was recorded: sign in with GitHub to decide.', viewer);
    return page(401, html);
  }
  // Only this person's own vote (matched by GitHub user id, never login) skips the check: the run object answers it 409.
  const voted = viewer.vote !== null && viewer.vote.user_id === viewer.person.id;
  if (data.gate.state === 'pending' && !voted && !viewer.eligibility.eligible) {
    const status = viewer.eligibility.unavailable ? 502 : 403;
    return page(status, approvalPageHtml(data, '', `Nothing was recorded: you may not decide: ${viewer.eligibility.why}.`, viewer));
  }
  return { ...decision, approver: '', person: viewer.person };
}

/** The decision fields, or a message naming the bad one. */
function parseDecision(form: URLSearchParams): ApprovalDecision | string {
  const decision = single(form, 'decision');
  if (decision !== 'approve' && decision !== 'reject') return 'decision: must be approve or reject.';
  // Browsers send a textarea's line breaks as CRLF; count them as the textarea's maxlength does.
  const comment = single(form, 'comment')?.replace(/\r\n?/g, '\n');
  if (comment === undefined || comment.length > MAX_COMMENT_CHARS) {
    return `comment: must be one field of at most ${MAX_COMMENT_CHARS} characters.`;
  }
  const approver = single(form, 'approver');
  if (approver === undefined || approver.length > MAX_APPROVER_CHARS) {
    return `approver: must be one field of at most ${MAX_APPROVER_CHARS} characters.`;
  }
  return { approved: decision === 'approve', comment, approver };
}

/** A field given at most once ('' when absent); undefined when it is repeated. */
function single(form: URLSearchParams, name: string): string | undefined {
  const values = form.getAll(name);
  return values.length > 1 ? undefined : (values[0] ?? '');
}

function notFound(): Response {
  return page(404, messagePage('Approval not found', 'This approval link is not valid. Check that it was copied whole.'));
}

function forbidden(): Response {
  return page(
    403,
    messagePage('Form expired', 'This form expired or did not come from the approval page; reload it and decide again.'),
  );
}
