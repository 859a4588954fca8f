/** heartbeatTimeout from the action's side (SPEC §11): the registration carries it, and the relay hears when the call was made. */
import { describe, expect, it } from 'vitest';
import { webhookGate } from '../../../action/effects/webhook-gate.ts';
import { ManualClock, target, webhook } from '../fakes.ts';
import { harness, webhookDef } from './harness.ts';
import { entry, parkingEffects, requestLines } from './park-helpers.ts';

const live = (): AbortSignal => new AbortController().signal;
const staging = target('staging');
const item = webhook('Tests');
const alone = { items: [item], keys: ['afterDeployment/0'] };
const lines = (h: ReturnType<typeof harness>): string[] => requestLines(h.relay.requests);

describe('a webhook with heartbeatTimeout', () => {
  it('registers its gate with heartbeatSeconds and reports the call after the 2xx, before waiting', async () => {
    const h = harness({ webhooks: [webhookDef('Tests', { heartbeatSeconds: 90 })] });
    h.relay.decisions.set('Tests', { state: 'succeeded' });
    const step = await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    expect(step.state).toBe('succeeded');
    expect(h.relay.requests[0]?.body).toMatchObject({ name: 'Tests', heartbeatSeconds: 90 });
    expect(lines(h)).toEqual(['register Tests', 'called', 'poll']);
    expect(h.relay.requests[1]?.body).toEqual({ runId: 'octo/app/42', gateId: h.relay.gate('Tests').gateId });
    expect(h.relay.gate('Tests').lastHeardAt).not.toBeNull();
  });

  it('rounds a fractional heartbeat up to whole seconds', async () => {
    const h = harness({ webhooks: [webhookDef('Tests', { heartbeatSeconds: 0.5 })] });
    h.relay.decisions.set('Tests', { state: 'succeeded' });
    await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    expect(h.relay.requests[0]?.body).toMatchObject({ heartbeatSeconds: 1 });
  });

  it('reports no call when the call failed', async () => {
    const h = harness({ webhooks: [webhookDef('Tests', { heartbeatSeconds: 90 })] });
    h.answer = () => new Response('nope', { status: 400 });
    const step = await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    expect(step.state).toBe('failed');
    expect(lines(h)).toEqual(['register Tests', 'POST /v1/runs/cancel']);
  });

  it('reports the call again, through an outage, and only warns when the relay never takes it', async () => {
    const h = harness({ webhooks: [webhookDef('Tests', { heartbeatSeconds: 90 })] });
    h.relay.decisions.set('Tests', { state: 'succeeded' });
    h.relay.outages.set('POST /v1/gates/called', 503);
    const step = await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    expect(step.state).toBe('succeeded');
    expect(lines(h).filter((l) => l === 'called')).toHaveLength(3);
    expect(h.log.lines.filter((l) => l.startsWith('warning'))).toEqual([
      'warning: [staging] could not tell the relay that Tests was called, so its heartbeatTimeout may not be enforced: relay answered 503: scripted 503',
    ]);
  });

  it('fails with the relay’s message when the system went quiet', async () => {
    const h = harness({ webhooks: [webhookDef('Tests', { heartbeatSeconds: 60 })] });
    const quiet = 'Tests went quiet: nothing heard for 60 s (heartbeatTimeout), last heard at 2025-01-01T00:00:00.000Z';
    h.relay.decisions.set('Tests', { state: 'failed', message: quiet });
    const step = await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    expect(step).toMatchObject({ state: 'failed', message: quiet });
  });

  it('reports the call again when a resumed run waits for a webhook the parked run called', async () => {
    const h = harness({ webhooks: [webhookDef('Tests', { heartbeatSeconds: 90 })] });
    h.relay.decisions.set('Tests', { state: 'succeeded' });
    const entries = [entry('staging/afterDeployment/0#called', { type: 'called' })];
    const { fx } = parkingEffects(h, { parkAfterMs: 3_600_000, watchClock: new ManualClock(), entries });
    await fx.gate(staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    expect(h.webhookCalls).toEqual([]);
    expect(lines(h).slice(0, 3)).toEqual(['register Tests', 'called', 'poll']);
  });
});

describe('a webhook without heartbeatTimeout', () => {
  it('registers without heartbeatSeconds and never reports the call', async () => {
    const h = harness({ webhooks: [webhookDef('Tests')] });
    h.relay.decisions.set('Tests', { state: 'succeeded' });
    await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    expect(h.relay.requests[0]?.body).not.toHaveProperty('heartbeatSeconds');
    expect(lines(h)).toEqual(['register Tests', 'poll']);
  });
});
