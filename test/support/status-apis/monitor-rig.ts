/**
 * A monitor under test in virtual time: the effects harness's fakes, a scripted status API and a
 * recorded callback URI, both behind the context's fetch.
 */
import type { RegisterGateResponse } from '../../../shared/protocol.ts';
import { monitorGate } from '../../../action/effects/monitor.ts';
import type { CallAnswer } from '../../../action/effects/monitor-vars.ts';
import type { MonitorDef, WebhookDef } from '../../../action/plan/plan.ts';
import { templateResolver } from '../../../action/effects/template-vars.ts';
import { here, target } from '../../action/fakes.ts';
import { harness, webhookDef } from '../../action/effects/harness.ts';
import type { Harness } from '../../action/effects/harness.ts';

export const CALLBACK_URI = 'http://relay.test/v1/callbacks/gate0000000000000000000/tok3n';

export interface SentRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  /** The fetch's redirect mode. */
  redirect?: RequestRedirect;
}

/** A status answer, or a function of the request (throw for a network error). */
export type Scripted = Response | ((request: SentRequest) => Response | Promise<Response>);

export interface Rig {
  h: Harness;
  /** Status requests sent, in order. */
  polls: SentRequest[];
  /** Bodies posted to the callback URI, parsed. */
  posts: unknown[];
  /** Answers to the status requests, one per poll; the last one repeats. */
  statuses: Scripted[];
  /** Answers to the callback posts, one per post; then 200. */
  callbacks: Scripted[];
  controller: AbortController;
  /** Runs monitorGate to its end: the step's failure when the relay refused the verdict, else null. */
  run(answer?: Partial<CallAnswer>): Promise<string | null>;
}

export function monitorDef(fields: Partial<MonitorDef> = {}): MonitorDef {
  return {
    method: 'GET',
    uriTemplate: 'https://jenkins.example:8080/job/smoke/api/json?token={{secrets.TOKEN}}',
    headers: [],
    bodyTemplate: null,
    intervalSeconds: 30,
    statusPath: '$.result',
    success: ['SUCCESS'],
    failure: ['FAILURE', 'ABORTED'],
    location: here,
    ...fields,
  };
}

/** JSON with the given status code and headers. */
export function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(value, { status, headers });
}

export function gateFor(deadline: number): RegisterGateResponse {
  return {
    gateId: 'gate0000000000000000000'.slice(0, 22),
    runId: 'octo/app/42',
    stepKey: 'prod/afterDeployment/0',
    target: 'prod',
    phase: 'afterDeployment',
    name: 'Smoke',
    kind: 'webhook',
    attempt: 1,
    state: 'pending',
    message: null,
    decidedBy: null,
    createdAt: deadline - 3_600_000,
    deadline,
    decidedAt: null,
    progress: [],
    outputs: null,
    heartbeatSeconds: null,
    lastHeardAt: null,
    callbackUri: CALLBACK_URI,
    approvalUrl: null,
    created: true,
  };
}

/** A rig for webhook `Smoke` with this monitor (and webhook fields). */
export function rig(monitor: Partial<MonitorDef> = {}, webhook: Partial<WebhookDef> = {}): Rig {
  const def = webhookDef('Smoke', { uriTemplate: 'https://jenkins.example:8080/job/smoke/buildWithParameters', monitor: monitorDef(monitor), ...webhook });
  const h = harness({ webhooks: [def] });
  const r: Rig = {
    h,
    polls: [],
    posts: [],
    statuses: [json({ result: 'SUCCESS' })],
    callbacks: [],
    controller: new AbortController(),
    async run(answer = {}) {
      const ctx = h.ctx;
      const resolve = templateResolver({
        deploymentId: ctx.settings.deploymentId,
        application: ctx.plan.application,
        target: 'prod',
        callbackUri: CALLBACK_URI,
        approvalUrl: '',
        github: ctx.settings.github,
        context: {},
        secrets: ctx.settings.secrets,
      });
      const call: CallAnswer = { status: 201, headers: new Headers(), body: '', ...answer };
      return monitorGate({ ctx, target: target('prod'), def, resolve, answer: call, gate: gateFor(h.clock.now() + 3_600_000), signal: r.controller.signal });
    },
  };
  let polled = 0;
  h.ctx.fetch = (async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    if (init?.signal?.aborted) throw init.signal.reason;
    const body = init?.body instanceof Uint8Array ? new TextDecoder().decode(init.body) : typeof init?.body === 'string' ? init.body : null;
    const request: SentRequest = { method: init?.method ?? 'GET', url: String(input), headers: { ...(init?.headers as Record<string, string>) }, body };
    if (init?.redirect) request.redirect = init.redirect;
    if (request.url === CALLBACK_URI) {
      r.posts.push(JSON.parse(body ?? 'null'));
      const next = r.callbacks.shift() ?? new Response('{}');
      return typeof next === 'function' ? next(request) : next;
    }
    r.polls.push(request);
    const next = r.statuses[Math.min(polled++, r.statuses.length - 1)];
    if (!next) throw new Error('no status scripted');
    return typeof next === 'function' ? next(request) : next.clone();
  }) as typeof fetch;
  return r;
}

export type { Harness };
