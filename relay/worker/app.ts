/** The relay's stateless Worker: authenticates, validates and routes to a run's Durable Object. */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import {
  CallbackBody,
  CancelRunRequest,
  GateId,
  MAX_CALLBACKS_PER_GATE_PER_MINUTE,
  MAX_GATES_PER_RUN,
  MAX_WAIT_SECONDS,
  RegisterGateRequest,
  ReportTargetRequest,
  RunId,
  TargetName,
} from '../../shared/protocol.ts';
import type { CallbackResponse, CancelRunResponse } from '../../shared/protocol.ts';
import { approvalRoutes } from '../approval/routes.ts';
import { authenticate } from './auth.ts';
import type { Principal } from './auth.ts';
import type { Env } from './env.ts';
import { runObject } from './env.ts';
import { verifyCallbackToken } from '../tokens/gate-token.ts';
import { httpError, readJson } from './http.ts';

type AppContext = Context<{ Bindings: Env }>;

export const app = new Hono<{ Bindings: Env }>();

app.onError((error, c) => {
  if (error instanceof HTTPException) return error.getResponse();
  console.error('relay error', error instanceof Error ? error.message : String(error));
  return c.json({ error: 'internal', message: 'the relay failed to handle this request' }, 500);
});

app.notFound((c) => c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404));

app.get('/', (c) => c.json({ service: 'hookgate relay' }));
app.get('/healthz', (c) => c.json({ ok: true }));

/** The action's credential (relay/worker/auth.ts): RELAY_TOKEN or an allowed repository's OIDC token. */
function requireAction(c: AppContext): Promise<Principal> {
  return authenticate(c.env, c.req.header('authorization'), c.req.url);
}

/** The same answer whoever owns the run: which repository that is stays the owner's business. */
function notYourRun(runId: string): HTTPException {
  return httpError(403, 'forbidden', `run ${runId} belongs to another repository`);
}

function callbackSecret(c: AppContext): string {
  const secret = c.env.CALLBACK_SECRET;
  if (!secret) throw httpError(503, 'misconfigured', 'the relay has no CALLBACK_SECRET secret set');
  return secret;
}

function run(c: AppContext, runId: string) {
  return runObject(c.env, runId);
}

/** `wait=<seconds>` of a long-poll: 0 when absent; 400 outside 0..MAX_WAIT_SECONDS. */
function waitSeconds(c: AppContext): number {
  const wait = Number(c.req.query('wait') ?? '0');
  if (!Number.isFinite(wait) || wait < 0 || wait > MAX_WAIT_SECONDS) {
    throw httpError(400, 'bad_request', `wait: must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}`);
  }
  return wait;
}

function runQuery(c: AppContext): string {
  const runId = RunId.safeParse(c.req.query('run'));
  if (!runId.success) throw httpError(400, 'bad_request', 'run: the query parameter run=<deployment id> is required');
  return runId.data;
}

app.post('/v1/gates', async (c) => {
  const caller = await requireAction(c);
  callbackSecret(c);
  const request = await readJson(c, RegisterGateRequest);
  const base = c.env.PUBLIC_URL || new URL(c.req.url).origin;
  const result = await run(c, request.runId).register(caller, request, base);
  if (result.status === 403) throw notYourRun(request.runId);
  // 409 superseded: a re-run's newer attempt owns this target; 409 conflict: the step key is another attempt's.
  if (result.status === 409) throw httpError(409, result.error, result.message);
  if (result.status === 422) {
    throw httpError(
      422,
      'too_many_gates',
      `run ${request.runId} already has ${result.count} gates, the most one run may register (MAX_GATES_PER_RUN = ${MAX_GATES_PER_RUN})`,
    );
  }
  return c.json(result.gate, result.status);
});

app.get('/v1/gates/:gateId', async (c) => {
  const caller = await requireAction(c);
  const gateId = GateId.safeParse(c.req.param('gateId'));
  const runId = runQuery(c);
  if (!gateId.success) throw httpError(404, 'not_found', 'no such gate');
  const wait = waitSeconds(c);
  const result = await run(c, runId).wait(caller, gateId.data, wait);
  if (result.status === 403) throw notYourRun(runId);
  if (result.status === 404) throw httpError(404, 'not_found', 'no such gate in this run');
  return c.json(result.gate);
});

app.post('/v1/runs/cancel', async (c) => {
  const caller = await requireAction(c);
  const request = await readJson(c, CancelRunRequest);
  const result = await run(c, request.runId).cancelRun(caller, request.reason, request.gateIds, request.target);
  if (result.status === 403) throw notYourRun(request.runId);
  return c.json({ runId: request.runId, canceled: result.canceled } satisfies CancelRunResponse);
});

/** SPEC §5: a job reports its target's progress and outcome. */
app.post('/v1/runs/targets', async (c) => {
  const caller = await requireAction(c);
  const request = await readJson(c, ReportTargetRequest);
  const result = await run(c, request.runId).reportTarget(caller, request);
  if (result.status === 403) throw notYourRun(request.runId);
  if (result.status === 409) throw httpError(409, result.error, result.message, { record: result.record });
  return c.json(result.record);
});

/** SPEC §5: a job reads an upstream target's record, long-polling until it is final. */
app.get('/v1/runs/targets', async (c) => {
  const caller = await requireAction(c);
  const runId = runQuery(c);
  const target = TargetName.safeParse(c.req.query('target'));
  if (!target.success) throw httpError(400, 'bad_request', 'target: the query parameter target=<target name> is required');
  const wait = waitSeconds(c);
  const result = await run(c, runId).waitTarget(caller, runId, target.data, wait);
  if (result.status === 403) throw notYourRun(runId);
  return c.json(result.record);
});

app.route('/approve', approvalRoutes);

/** SPEC §3: the URI as rendered, with or without the `/callback` suffix Armory templates append. */
for (const path of ['/cb/:token', '/cb/:token/callback']) {
  app.post(path, async (c) => {
    const gate = await verifyCallbackToken(callbackSecret(c), c.req.param('token') ?? '');
    if (!gate) throw unknownGate();
    const body = await readJson(c, CallbackBody);
    const result = await run(c, gate.runId).callback(gate.gateId, body);
    if (result.status === 404) throw unknownGate();
    if (result.status === 429) throw rateLimited(result.retryAfterSeconds);
    const answer: CallbackResponse = {
      gateId: result.gate.gateId,
      state: result.gate.state,
      message: result.gate.message,
    };
    if (result.status === 200) return c.json(answer);
    if (result.status === 409) {
      return c.json(
        { error: 'conflict', message: `the gate was already decided: ${result.gate.state}`, gate: answer },
        409,
      );
    }
    return c.json({ error: 'gone', message: `the gate is ${result.gate.state}; nothing waits for it`, gate: answer }, 410);
  });
  app.on(['GET', 'PUT', 'PATCH', 'DELETE'], path, (c) =>
    c.json({ error: 'method_not_allowed', message: 'POST the decision as JSON: {"success": true|false, "mdMessage": "…"}' }, 405),
  );
}

function unknownGate(): HTTPException {
  return httpError(404, 'not_found', 'unknown callback token');
}

function rateLimited(retryAfterSeconds: number): HTTPException {
  return httpError(
    429,
    'rate_limited',
    `this gate took ${MAX_CALLBACKS_PER_GATE_PER_MINUTE} callbacks in the last minute, the most it accepts ` +
      `(MAX_CALLBACKS_PER_GATE_PER_MINUTE); nothing was changed, retry after ${retryAfterSeconds} s`,
    {},
    { 'retry-after': String(retryAfterSeconds) },
  );
}
