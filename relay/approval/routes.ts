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

type PageContext = Context<{ Bindings: Env }>;

const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  // The URL is a capability and must not leak through Referer. Not `no-referrer`: under that
  // policy browsers send `Origin: null` with the page's own form POST (Fetch §3.1.2, checked in
  // Chromium), and the Origin check below could not tell it from a forged one.
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'x-robots-tag': 'noindex',
};

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
  return page(200, approvalPageHtml(data, csrf), { 'set-cookie': csrfCookie(nonce, secure) });
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
  const decision = parseDecision(form);
  if (typeof decision === 'string') return page(400, messagePage('Bad request', decision));

  const stub = runObject(c.env, ref.runId);
  const result = await stub.approve(ref.gateId, decision);
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
  return decidedPage(c, ref, result.reason);
});

approvalRoutes.on(['PUT', 'PATCH', 'DELETE', 'OPTIONS'], '/:token', () =>
  page(405, messagePage('Method not allowed', 'Open the approval link in a browser.'), { allow: 'GET, POST' }),
);

/** Already decided, or final: the page as it stands, with why the decision was not taken. */
async function decidedPage(c: PageContext, ref: GateRef, reason: 'conflict' | 'final'): Promise<Response> {
  const data = await runObject(c.env, ref.runId).approvalPage(ref.gateId);
  if (!data) return notFound();
  const notice =
    reason === 'conflict'
      ? 'Your decision was not recorded: this approval was already decided, and the first decision stands.'
      : `Your decision was not recorded: this approval is ${data.gate.state}, so nothing waits for it any more.`;
  return page(REFUSAL_STATUS[reason], approvalPageHtml(data, '', notice));
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

function page(status: number, html: string, headers: Record<string, string> = {}): Response {
  return new Response(html === '' ? null : html, { status, headers: { ...PAGE_HEADERS, ...headers } });
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
