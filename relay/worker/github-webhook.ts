/**
 * `POST /github/webhook`: the relay's GitHub App's deliveries. Every delivery is verified first
 * (X-Hub-Signature-256, HMAC-SHA256 of the raw body with GITHUB_WEBHOOK_SECRET, by
 * @octokit/webhooks-methods); an unsigned or forged one gets 401 and reaches no run. `ping`
 * answers 200; `deployment_protection_rule` `requested` goes to the run `<owner>/<repo>/<run id>`
 * (the action's default deployment id), which answers GitHub once the environment's gates are
 * final (relay/run/protection.ts); every other event is acknowledged 202 and ignored.
 */
import { verify } from '@octokit/webhooks-methods';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { appSetup } from '../github/app-config.ts';
import { callbackRun } from '../github/protection-callback.ts';
import { MAX_PROTECTION_REQUESTS } from '../run/protection.ts';
import type { ProtectionRequest } from '../run/protection.ts';
import { relayConfig } from './config.ts';
import type { Env } from './env.ts';
import { runObject } from './env.ts';
import { httpError } from './http.ts';

/** Largest delivery the relay reads: GitHub caps payloads at 25 MB, but the events the relay acts on are a few KB. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

/** GitHub's signature header: `sha256=` and 64 lowercase hex digits, nothing else (no other algorithm, no bare digest). */
const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

/** The fields of a `deployment_protection_rule` delivery the relay acts on. */
const ProtectionDelivery = z.object({
  action: z.string(),
  environment: z.string().min(1).max(255),
  deployment_callback_url: z.string().min(1).max(2000),
  repository: z.object({ full_name: z.string().regex(/^[A-Za-z0-9._-]{1,100}\/[A-Za-z0-9._-]{1,100}$/, 'is not owner/repo') }),
  installation: z.object({ id: z.number().int().positive() }),
});

/** X-GitHub-Delivery: a GUID, the same on a redelivery. */
const DeliveryId = z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'X-GitHub-Delivery: is not a delivery id');

export const githubWebhookRoutes = new Hono<{ Bindings: Env }>();

/** The delivery's raw body once its signature verifies; 503 without a secret, 401 for any other request. */
async function verifiedBody(secret: string | null, signature: string | undefined, body: string): Promise<string> {
  if (!secret) throw httpError(503, 'misconfigured', 'the relay has no GITHUB_WEBHOOK_SECRET secret set: it cannot verify GitHub’s deliveries');
  if (!signature) throw httpError(401, 'unauthorized', 'X-Hub-Signature-256 is required: deliveries are signed with the App’s webhook secret');
  if (!SIGNATURE.test(signature)) throw httpError(401, 'unauthorized', 'X-Hub-Signature-256 must be sha256= and 64 lowercase hex digits');
  if (body === '') throw httpError(401, 'unauthorized', 'the delivery has no body: nothing is signed');
  if (!(await verify(secret, body, signature))) {
    throw httpError(401, 'unauthorized', 'X-Hub-Signature-256 does not match the body: the delivery is not signed with this relay’s GITHUB_WEBHOOK_SECRET');
  }
  return body;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw httpError(400, 'bad_request', 'the body is not JSON');
  }
}

/** The protection request of a verified delivery, checked: 400 naming the field, 503 without the App that must answer. */
function protectionRequest(env: Env, delivery: string | undefined, payload: z.output<typeof ProtectionDelivery>): ProtectionRequest & { runId: string } {
  const id = DeliveryId.safeParse(delivery ?? '');
  if (!id.success) throw httpError(400, 'bad_request', 'X-GitHub-Delivery: is required and must be a delivery id');
  const setup = appSetup(env);
  if (!setup.app) throw httpError(503, 'misconfigured', `the relay cannot answer deployment protection rules: ${setup.message}`);
  const repository = payload.repository.full_name;
  const run = callbackRun(payload.deployment_callback_url, setup.app.apiUrl, repository);
  if ('problem' in run) throw httpError(400, 'bad_request', run.problem);
  return {
    runId: `${repository}/${run.runId}`,
    delivery: id.data,
    environment: payload.environment,
    repository,
    callbackUrl: payload.deployment_callback_url,
  };
}

const limit = bodyLimit({
  maxSize: MAX_WEBHOOK_BODY_BYTES,
  onError: () => {
    throw httpError(413, 'payload_too_large', `the delivery is larger than ${MAX_WEBHOOK_BODY_BYTES} bytes`);
  },
});

/** A delivery of the relay's GitHub App. */
githubWebhookRoutes.post('/github/webhook', limit, async (c) => {
  const body = await verifiedBody(relayConfig(c.env).webhookSecret, c.req.header('x-hub-signature-256'), await c.req.text());
  const event = c.req.header('x-github-event') ?? '';
  if (event === 'ping') return c.json({ ok: true, message: 'pong' });
  const payload = parseJson(body);
  const action = typeof payload === 'object' && payload !== null ? (payload as { action?: unknown }).action : undefined;
  if (event !== 'deployment_protection_rule' || action !== 'requested') {
    return c.json({ ignored: true, message: 'the relay acts on ping and deployment_protection_rule (requested) deliveries only' }, 202);
  }
  const parsed = ProtectionDelivery.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw httpError(400, 'bad_request', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'is invalid'}`);
  }
  const { runId, ...request } = protectionRequest(c.env, c.req.header('x-github-delivery'), parsed.data);
  const result = await runObject(c.env, runId).protectionRequest(request);
  if (!result.ok) {
    throw httpError(422, 'too_many_requests', `run ${runId} already has ${result.count} protection requests, the most one run keeps (${MAX_PROTECTION_REQUESTS})`);
  }
  return c.json({ runId, stored: result.stored, state: result.state, answer: result.answer }, 202);
});
