/** The action's routes (SPEC §6): register, poll and report calling gates, cancel, report and read target records. */
import { Hono } from 'hono';
import type { Context } from 'hono';
import {
  CancelRunRequest,
  GateCalledRequest,
  GateId,
  MAX_WAIT_SECONDS,
  RegisterGateRequest,
  ReportTargetRequest,
  RunId,
  TargetName,
} from '../../shared/protocol.ts';
import type { CancelRunResponse, RegisterGate } from '../../shared/protocol.ts';
import type { Principal } from '../run/principal.ts';
import type { NewGate } from '../run/results.ts';
import { randomId } from '../tokens/crypto.ts';
import { mintGateToken } from '../tokens/gate-token.ts';
import { authenticate } from './auth.ts';
import type { RelayConfig } from './config.ts';
import { callbackSecret, publicUrl, soundConfig } from './config.ts';
import type { Env } from './env.ts';
import { runObject } from './env.ts';
import { httpError, readJson } from './http.ts';
import { notYourRun, registerRefusal, reportRefusal, REFUSAL_STATUS } from './statuses.ts';

export type AppContext = Context<{ Bindings: Env }>;

export const actionRoutes = new Hono<{ Bindings: Env }>();

/** The action's credential (relay/worker/auth.ts): RELAY_TOKEN or an allowed repository's OIDC token. */
export async function requireAction(c: AppContext): Promise<{ caller: Principal; config: RelayConfig }> {
  const config = soundConfig(c.env);
  return { caller: await authenticate(config, c.req.header('authorization'), c.req.url), config };
}

/** `wait=<seconds>` of a long-poll: 0 when absent; 400 outside 0..MAX_WAIT_SECONDS. */
function waitSeconds(c: AppContext): number {
  const wait = Number(c.req.query('wait') ?? '0');
  if (!Number.isFinite(wait) || wait < 0 || wait > MAX_WAIT_SECONDS) {
    throw httpError(400, 'bad_request', `wait: must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}`);
  }
  return wait;
}

/**
 * `seen=<seq>` of a gate long-poll: the number of the latest progress report the caller has,
 * so that a newer one answers at once; undefined when absent; 400 unless an integer ≥ 0.
 */
function seenSeq(c: AppContext): number | undefined {
  const seen = c.req.query('seen');
  if (seen === undefined) return undefined;
  // Up to 15 digits: every such number is a safe integer, and far above any report's number.
  if (!/^\d{1,15}$/.test(seen)) throw httpError(400, 'bad_request', 'seen: must be a progress report number, an integer of 0 or more');
  return Number(seen);
}

/** `run=<deployment id>` of a GET; 400 when absent or not a run id. */
export function runQuery(c: AppContext): string {
  const runId = RunId.safeParse(c.req.query('run'));
  if (!runId.success) throw httpError(400, 'bad_request', 'run: the query parameter run=<deployment id> is required');
  return runId.data;
}

/** A new gate's id and its links, on the relay's public URL. */
async function newGate(secret: string, base: string, request: RegisterGate): Promise<NewGate> {
  const gateId = randomId(16);
  const callbackUri = `${base}/cb/${await mintGateToken(secret, 'callback', request.runId, gateId)}`;
  const approvalUrl =
    request.kind === 'approval' ? `${base}/approve/${await mintGateToken(secret, 'approval', request.runId, gateId)}` : null;
  return { gateId, callbackUri, approvalUrl };
}

actionRoutes.post('/v1/gates', async (c) => {
  const { caller, config } = await requireAction(c);
  const secret = callbackSecret(config);
  const request = await readJson(c, RegisterGateRequest);
  const gate = await newGate(secret, publicUrl(config, c.req.url), request);
  const result = await runObject(c.env, request.runId).register(caller, request, gate);
  if (!result.ok) throw registerRefusal(request.runId, result);
  return c.json(result.gate, result.gate.created ? 201 : 200);
});

actionRoutes.get('/v1/gates/:gateId', async (c) => {
  const { caller } = await requireAction(c);
  const gateId = GateId.safeParse(c.req.param('gateId'));
  const runId = runQuery(c);
  if (!gateId.success) throw httpError(404, 'not_found', 'no such gate');
  const wait = waitSeconds(c);
  const result = await runObject(c.env, runId).wait(caller, runId, gateId.data, wait, seenSeq(c));
  if (result.ok) return c.json(result.gate);
  if (result.reason === 'forbidden') throw notYourRun(runId);
  throw httpError(REFUSAL_STATUS[result.reason], 'not_found', 'no such gate in this run');
});

/** SPEC §11: the action called the gate's webhook; a gate with heartbeatTimeout starts its clock. */
actionRoutes.post('/v1/gates/called', async (c) => {
  const { caller } = await requireAction(c);
  const request = await readJson(c, GateCalledRequest);
  const result = await runObject(c.env, request.runId).called(caller, request);
  if (result.ok) return c.json(result.gate);
  if (result.reason === 'forbidden') throw notYourRun(request.runId);
  throw httpError(REFUSAL_STATUS[result.reason], 'not_found', 'gateId: no such webhook gate in this run');
});

actionRoutes.post('/v1/runs/cancel', async (c) => {
  const { caller } = await requireAction(c);
  const request = await readJson(c, CancelRunRequest);
  const result = await runObject(c.env, request.runId).cancelRun(caller, request);
  if (!result.ok) throw notYourRun(request.runId);
  return c.json({ runId: request.runId, canceled: result.canceled } satisfies CancelRunResponse);
});

/** SPEC §5: a job reports its target's progress and outcome. */
actionRoutes.post('/v1/runs/targets', async (c) => {
  const { caller } = await requireAction(c);
  const request = await readJson(c, ReportTargetRequest);
  const result = await runObject(c.env, request.runId).reportTarget(caller, request);
  if (!result.ok) throw reportRefusal(request.runId, result);
  return c.json(result.record);
});

/** SPEC §5: a job reads an upstream target's record, long-polling until it is final. */
actionRoutes.get('/v1/runs/targets', async (c) => {
  const { caller } = await requireAction(c);
  const runId = runQuery(c);
  const target = TargetName.safeParse(c.req.query('target'));
  if (!target.success) throw httpError(400, 'bad_request', 'target: the query parameter target=<target name> is required');
  const wait = waitSeconds(c);
  const result = await runObject(c.env, runId).waitTarget(caller, runId, target.data, wait);
  if (!result.ok) throw notYourRun(runId);
  return c.json(result.record);
});
