/**
 * An in-memory relay behind a fetch, for the effects' unit tests: the real RelayClient
 * talks to it, requests are checked with the protocol's schemas and, like the relay's
 * edge, refused when a string holds a lone surrogate. Park and resume: fake-relay-park.ts.
 */
import { CancelRunRequest, GateCalledRequest, RegisterGateRequest, ReportTargetRequest } from '../../../shared/protocol.ts';
import type { GateView, RegisterGateResponse, TargetRecord } from '../../../shared/protocol.ts';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { RelayClient } from '../../../action/clients/relay.ts';
import type { FakeClock } from '../fakes.ts';
import { FakeParking } from './fake-relay-park.ts';

export interface RelayRequest {
  method: string;
  path: string;
  body: unknown;
}

export const RELAY_URL = 'http://relay.test';

export class FakeRelay {
  readonly requests: RelayRequest[] = [];
  readonly gates = new Map<string, RegisterGateResponse>();
  readonly targets = new Map<string, TargetRecord>();
  /** By gate name: how the gate is decided at its next poll. */
  readonly decisions = new Map<string, Partial<GateView>>();
  /** By gate name: the state an earlier try left it in, answered at registration. */
  readonly registeredAs = new Map<string, Partial<RegisterGateResponse>>();
  /** By `METHOD /path`: the next such request is refused with this status. */
  readonly refusals = new Map<string, number>();
  /** By `METHOD /path`: every such request is refused with this status while set (an outage). */
  readonly outages = new Map<string, number>();
  /** Polls of undecided gates hang until their request is aborted. */
  holdPolls = false;
  /** The park and resume routes (shared/park.ts). */
  readonly parking: FakeParking;
  private readonly clock: FakeClock;

  constructor(clock: FakeClock) {
    this.clock = clock;
    this.parking = new FakeParking(clock, () => [...this.targets.values()]);
  }

  /** A RelayClient whose requests this relay answers. */
  client(): RelayClient {
    const fetchImpl = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      // Like fetch: an aborted request never goes out.
      if (init?.signal?.aborted) return Promise.reject(init.signal.reason);
      const url = new URL(String(input));
      const body: unknown = typeof init?.body === 'string' ? JSON.parse(init.body) : null;
      return this.handle(init?.method ?? 'GET', url, body, init?.signal ?? null);
    };
    return new RelayClient({ baseUrl: RELAY_URL, token: 'relay-token', fetch: fetchImpl as typeof fetch });
  }

  /** Serves this relay over HTTP on 127.0.0.1, for code that makes its own RelayClient (the post step). */
  async serve(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body: unknown = text ? JSON.parse(text) : null;
        void this.handle(req.method ?? 'GET', new URL(req.url ?? '/', RELAY_URL), body, null).then(async (answer) => {
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(await answer.text());
        });
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => {
      server.close(() => resolve());
      // Keep-alive connections of the client would hold the close for seconds.
      server.closeAllConnections();
    }) };
  }

  /** The one gate registered under `name`. */
  gate(name: string): RegisterGateResponse {
    const found = [...this.gates.values()].find((g) => g.name === name);
    if (!found) throw new Error(`no gate ${name} was registered`);
    return found;
  }

  private async handle(method: string, url: URL, body: unknown, signal: AbortSignal | null): Promise<Response> {
    this.requests.push({ method, path: url.pathname, body });
    const route = `${method} ${url.pathname === '/v1/gates/called' ? url.pathname : url.pathname.replace(/^\/v1\/gates\/.+$/, '/v1/gates/:id')}`;
    const refusal = this.refusals.get(route);
    if (refusal !== undefined) {
      this.refusals.delete(route);
      return error(refusal, 'refused', `scripted ${refusal}`);
    }
    const outage = this.outages.get(route);
    if (outage !== undefined) return error(outage, 'refused', `scripted ${outage}`);
    if (!wellFormed(body)) return error(400, 'bad_request', 'body: contains an unpaired UTF-16 surrogate');
    switch (route) {
      case 'POST /v1/gates':
        return parsed(RegisterGateRequest, body, (request) => this.register(request));
      case 'POST /v1/gates/called':
        return parsed(GateCalledRequest, body, (request) => this.called(request));
      case 'GET /v1/gates/:id':
        return this.poll(url, signal);
      case 'POST /v1/runs/cancel':
        return parsed(CancelRunRequest, body, (request) => this.cancel(request));
      case 'POST /v1/runs/targets':
        return parsed(ReportTargetRequest, body, (request) => this.report(request));
      case 'GET /v1/runs/targets':
        return this.pollTarget(url);
      default:
        return this.parking.handle(route, body) ?? error(404, 'not_found', route);
    }
  }

  private register(request: z.output<typeof RegisterGateRequest>): Response {
    const known = [...this.gates.values()].find((g) => g.stepKey === request.stepKey);
    if (known) return Response.json({ ...known, created: false });
    const gateId = `gate${this.gates.size}`.padEnd(22, '0');
    const now = this.clock.now();
    const gate: RegisterGateResponse = {
      gateId,
      runId: request.runId,
      stepKey: request.stepKey,
      target: request.target,
      phase: request.phase,
      name: request.name,
      kind: request.kind,
      attempt: request.attempt,
      state: 'pending',
      message: null,
      decidedBy: null,
      createdAt: now,
      deadline: now + request.timeoutSeconds * 1000,
      decidedAt: null,
      progress: [],
      outputs: null,
      heartbeatSeconds: request.heartbeatSeconds ?? null,
      lastHeardAt: null,
      callbackUri: `${RELAY_URL}/v1/callbacks/${gateId}`,
      approvalUrl: request.kind === 'approval' ? `${RELAY_URL}/approve/${gateId}` : null,
      created: true,
      ...this.registeredAs.get(request.name),
    };
    this.gates.set(gateId, gate);
    return Response.json(gate);
  }

  private async poll(url: URL, signal: AbortSignal | null): Promise<Response> {
    const gate = this.gates.get(decodeURIComponent(url.pathname.split('/').at(-1) ?? ''));
    if (!gate) return error(404, 'not_found', 'no such gate');
    const decision = this.decisions.get(gate.name);
    if (gate.state === 'pending' && decision) {
      Object.assign(gate, { state: 'succeeded', decidedAt: this.clock.now(), ...decision });
    } else if (gate.state === 'pending' && this.holdPolls && signal) {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      throw signal.reason;
    } else if (gate.state === 'pending') {
      this.clock.advance(Number(url.searchParams.get('wait')) * 1000);
    }
    return Response.json(gate);
  }

  private called(request: z.output<typeof GateCalledRequest>): Response {
    const gate = this.gates.get(request.gateId);
    if (!gate || gate.runId !== request.runId) return error(404, 'not_found', 'no such gate');
    // A repeat changes nothing: the heartbeat clock started with the first.
    gate.lastHeardAt ??= this.clock.now();
    return Response.json(gate);
  }

  private cancel(request: z.output<typeof CancelRunRequest>): Response {
    const canceled = (request.gateIds ?? []).filter((id) => this.gates.get(id)?.state === 'pending');
    for (const id of canceled) Object.assign(this.gates.get(id) ?? {}, { state: 'canceled', message: request.reason, decidedAt: this.clock.now() });
    return Response.json({ runId: request.runId, canceled });
  }

  private report(request: z.output<typeof ReportTargetRequest>): Response {
    const record: TargetRecord = { ...request, updatedAt: this.clock.now() };
    this.targets.set(request.target, record);
    return Response.json(record);
  }

  private pollTarget(url: URL): Response {
    const target = url.searchParams.get('target') ?? '';
    const runId = url.searchParams.get('run') ?? '';
    const record = this.targets.get(target) ?? { runId, target, attempt: 0, status: 'unknown', message: '', updatedAt: null };
    if (record.status === 'unknown' || record.status === 'running') this.clock.advance(Number(url.searchParams.get('wait')) * 1000);
    return Response.json(record);
  }
}

function parsed<S extends z.ZodType>(schema: S, body: unknown, then: (value: z.output<S>) => Response): Response {
  const result = schema.safeParse(body);
  return result.success ? then(result.data) : error(400, 'bad_request', result.error.message);
}

function error(status: number, code: string, message: string): Response {
  return Response.json({ error: code, message }, { status });
}

/** Whether every string in the JSON value is well-formed Unicode, as the relay's edge demands. */
function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') return value.isWellFormed();
  if (Array.isArray(value)) return value.every(wellFormed);
  if (typeof value === 'object' && value !== null) return Object.values(value).every(wellFormed);
  return true;
}
