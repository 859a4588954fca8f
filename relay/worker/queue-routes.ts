/**
 * The deploy queue's routes (SPEC §11): a job enters, renews, leaves and looks, authenticated like
 * every action route. A job's OIDC token reaches only its own repository's queues; the queue's
 * Durable Object is named by the repository (any case, as GitHub compares) and the application.
 */
import { Hono } from 'hono';
import { RunId } from '../../shared/protocol.ts';
import { EnterQueueRequest, LeaveQueueRequest, MAX_HOLD_SECONDS, QUEUE_GATE_NAME, QueueKey, RenewQueueRequest } from '../../shared/queue.ts';
import type { QueueView } from '../../shared/queue.ts';
import type { QueueObject } from '../queue/object.ts';
import { runIdAdmits } from '../run/owner.ts';
import type { Principal } from '../run/principal.ts';
import { requireAction } from './action-routes.ts';
import type { AppContext } from './action-routes.ts';
import type { Env } from './env.ts';
import { runObject } from './env.ts';
import { httpError, readJson } from './http.ts';
import { notYourRun } from './statuses.ts';

export const queueRoutes = new Hono<{ Bindings: Env }>();

/** Clocks differ: a holdUntil this far past the limit is still taken (and cut to it). */
const HOLD_SKEW_MS = 5 * 60_000;

queueRoutes.post('/v1/queue/enter', async (c) => {
  const { caller } = await requireAction(c);
  const request = await readJson(c, EnterQueueRequest);
  const queue = queueFor(c, caller, request, request.runId);
  if (request.wakeGateId !== undefined) await checkWakeGate(c, caller, request, request.wakeGateId);
  return c.json(await queue.enter(request) satisfies QueueView);
});

queueRoutes.post('/v1/queue/renew', async (c) => {
  const { caller } = await requireAction(c);
  const request = await readJson(c, RenewQueueRequest);
  const queue = queueFor(c, caller, request, request.runId);
  const limit = Date.now() + MAX_HOLD_SECONDS * 1000;
  if (request.holdUntil !== undefined && request.holdUntil > limit + HOLD_SKEW_MS) {
    throw httpError(400, 'bad_request', `holdUntil: must be at most ${MAX_HOLD_SECONDS / 86_400} days ahead (epoch milliseconds), as long as a gate may wait`);
  }
  const holdUntil = request.holdUntil === undefined ? undefined : Math.min(request.holdUntil, limit);
  return c.json(await queue.renew({ ...request, ...(holdUntil === undefined ? {} : { holdUntil }) }) satisfies QueueView);
});

queueRoutes.post('/v1/queue/leave', async (c) => {
  const { caller } = await requireAction(c);
  const request = await readJson(c, LeaveQueueRequest);
  return c.json(await queueFor(c, caller, request, request.runId).leave(request) satisfies QueueView);
});

queueRoutes.get('/v1/queue', async (c) => {
  const { caller } = await requireAction(c);
  const key = QueueKey.safeParse({ repository: c.req.query('repository'), application: c.req.query('application') });
  if (!key.success) {
    const field = key.error.issues[0]?.path.join('.') ?? 'repository';
    throw httpError(400, 'bad_request', `${field}: the query parameters repository=<owner/repo> and application=<name> are required (${key.error.issues[0]?.message ?? 'invalid'})`);
  }
  const runId = RunId.safeParse(c.req.query('run'));
  if (!runId.success) throw httpError(400, 'bad_request', 'run: the query parameter run=<deployment id> is required');
  return c.json(await queueFor(c, caller, key.data, runId.data).view(runId.data) satisfies QueueView);
});

/**
 * The queue's Durable Object, once the caller may use it: a job's token only its own repository's
 * queue, and only for run ids its repository may use (relay/run/owner.ts). A relay deployed
 * without the QUEUES binding answers 404, as one from before the queue does.
 */
function queueFor(c: AppContext, caller: Principal, key: QueueKey, runId: string): DurableObjectStub<QueueObject> {
  const namespace = c.env.QUEUES;
  if (!namespace) {
    throw httpError(404, 'not_found', 'this relay has no deploy queue (no QUEUES binding in its wrangler.jsonc): deploy the current relay to use deploymentConfig.ifDeploymentInProgress');
  }
  if (caller.kind === 'oidc' && caller.repository.toLowerCase() !== key.repository.toLowerCase()) {
    throw httpError(403, 'forbidden', `repository: ${key.repository} is not the repository of this job's OIDC token; a job uses only its own repository's deploy queue`);
  }
  if (!runIdAdmits(runId, caller)) throw notYourRun(runId);
  return namespace.get(namespace.idFromName(JSON.stringify([key.repository.toLowerCase(), key.application])));
}

/**
 * The wake gate must be the pending queue gate of the caller's own run and attempt: the queue
 * decides it, so any other gate (someone else's, an approval, a deploy step's webhook) would let a
 * queue entry decide what it does not own.
 */
async function checkWakeGate(c: AppContext, caller: Principal, request: EnterQueueRequest, gateId: string): Promise<void> {
  const found = await runObject(c.env, request.runId).wait(caller, request.runId, gateId, 0);
  if (!found.ok && found.reason === 'forbidden') throw notYourRun(request.runId);
  const gate = found.ok ? found.gate : null;
  if (gate?.kind !== 'webhook' || gate.name !== QUEUE_GATE_NAME || gate.phase !== 'beforeDeployment' || gate.attempt !== request.attempt) {
    throw httpError(
      400,
      'bad_request',
      `wakeGateId: ${gateId} is not the '${QUEUE_GATE_NAME}' webhook gate (phase beforeDeployment, attempt ${request.attempt}) of run ${request.runId}; register the queue gate (POST /v1/gates) first`,
    );
  }
  if (gate.state !== 'pending') throw httpError(400, 'bad_request', `wakeGateId: ${gateId} is already ${gate.state}; only a pending queue gate can wait in the queue`);
}
