/** A webhook gate's callback URI (SPEC §3): the external system posts its decision or progress. */
import { Hono } from 'hono';
import { CallbackBody } from '../../shared/protocol.ts';
import { verifyCallbackToken } from '../tokens/gate-token.ts';
import { callbackSecret, relayConfig } from './config.ts';
import type { Env } from './env.ts';
import { runObject } from './env.ts';
import { readJson } from './http.ts';
import { callbackAnswer, callbackRefusal, unknownGate } from './statuses.ts';

export const callbackRoutes = new Hono<{ Bindings: Env }>();

/** The URI as rendered, with or without the `/callback` suffix Armory templates append. */
for (const path of ['/cb/:token', '/cb/:token/callback']) {
  callbackRoutes.post(path, async (c) => {
    // A forged token is refused before the body is read or a Durable Object is touched.
    const gate = await verifyCallbackToken(callbackSecret(relayConfig(c.env)), c.req.param('token') ?? '');
    if (!gate) throw unknownGate();
    const body = await readJson(c, CallbackBody);
    const result = await runObject(c.env, gate.runId).callback(gate.gateId, body);
    if (!result.ok) throw callbackRefusal(result);
    return c.json(callbackAnswer(result.gate));
  });
  callbackRoutes.on(['GET', 'PUT', 'PATCH', 'DELETE'], path, (c) =>
    c.json({ error: 'method_not_allowed', message: 'POST the decision as JSON: {"success": true|false, "mdMessage": "…"}' }, 405),
  );
}
