/** A webhook's monitor beside its callback wait: what it is started with, when it stops, and that the job never parks meanwhile. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MonitorCall } from '../../../action/effects/monitor.ts';
import { webhookGate } from '../../../action/effects/webhook-gate.ts';
import type { MonitorDef } from '../../../action/plan/plan.ts';
import { ManualClock, here, target, webhook, within } from '../fakes.ts';
import { harness, webhookDef } from './harness.ts';
import { entry, parkingEffects } from './park-helpers.ts';

// The monitor itself (action/effects/monitor.ts) has its own tests; here it is a stub the test scripts.
const monitor = vi.hoisted(() => ({ calls: [] as MonitorCall[], run: async (_call: MonitorCall): Promise<string | null> => null }));
vi.mock('../../../action/effects/monitor.ts', () => ({
  monitorGate: (call: MonitorCall): Promise<string | null> => {
    monitor.calls.push(call);
    return monitor.run(call);
  },
}));

const live = (): AbortSignal => new AbortController().signal;
const staging = target('staging');
const item = webhook('Build');
const alone = { items: [item], keys: ['afterDeployment/0'] };
const status: MonitorDef = {
  method: 'GET',
  uriTemplate: '{{response.location}}api/json',
  headers: [],
  bodyTemplate: null,
  intervalSeconds: 5,
  statusPath: '$.result',
  success: ['SUCCESS'],
  failure: ['FAILURE'],
  location: here,
};
const untilAborted = (signal: AbortSignal): Promise<void> => new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

afterEach(() => {
  monitor.calls.length = 0;
  monitor.run = async () => null;
});

describe('a webhook with a monitor', () => {
  it('starts the monitor with the call’s answer, variables and gate, and stops it once the callback wait returns', async () => {
    const h = harness({ webhooks: [webhookDef('Build', { monitor: status })] });
    h.answer = () => new Response('{"queued":true}', { status: 201, headers: { location: 'https://jenkins.example/queue/item/7/' } });
    let stoppedWhenDecided = false;
    monitor.run = async (call) => {
      // The monitor's verdict reaches the relay as a callback does; the wait then returns and stops it.
      h.relay.decisions.set('Build', { state: 'succeeded', message: 'monitor: SUCCESS', outputs: { status: 'SUCCESS' } });
      await untilAborted(call.signal);
      stoppedWhenDecided = true;
      return null;
    };
    const step = await within(5000, webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone));
    expect(step).toMatchObject({ state: 'succeeded', message: 'monitor: SUCCESS', outputs: { status: 'SUCCESS' } });
    expect(stoppedWhenDecided).toBe(true);
    const call = monitor.calls[0];
    expect(monitor.calls).toHaveLength(1);
    expect(call?.answer.status).toBe(201);
    expect(call?.answer.headers.get('location')).toBe('https://jenkins.example/queue/item/7/');
    expect(call?.answer.body).toBe('{"queued":true}');
    expect(call?.gate.callbackUri).toBe(h.relay.gate('Build').callbackUri);
    expect(call?.resolve('armory.environmentName')).toBe('staging');
    expect(call?.def.name).toBe('Build');
    expect(h.story()).toContain('[staging] Polling the status of Build (monitor) while waiting for its callback …');
  });

  it('stops the monitor when the step is canceled', async () => {
    const h = harness({ webhooks: [webhookDef('Build', { monitor: status })] });
    h.relay.holdPolls = true;
    monitor.run = async (call) => (await untilAborted(call.signal), null);
    const run = new AbortController();
    const waiting = webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', run.signal, alone);
    await new Promise((r) => setTimeout(r, 5));
    expect(monitor.calls[0]?.signal.aborted).toBe(false);
    run.abort(new Error('the workflow job was canceled'));
    expect((await within(5000, waiting)).state).toBe('canceled');
    expect(monitor.calls[0]?.signal.aborted).toBe(true);
  });

  it('keeps the job busy while it polls: no park, whereas a callback wait alone parks', async () => {
    for (const [def, parks] of [
      [webhookDef('Build', { monitor: status }), false],
      [webhookDef('Build'), true],
    ] as const) {
      const h = harness({ webhooks: [def] });
      h.relay.holdPolls = true;
      const watchClock = new ManualClock();
      monitor.run = async (call) => (await untilAborted(call.signal), null);
      const { fx, watch } = parkingEffects(h, { parkAfterMs: 1000, watchClock, writes: false });
      const run = new AbortController();
      const step = fx.gate(staging, 'afterDeployment', item, 'afterDeployment/0', AbortSignal.any([run.signal, watch.signal]), alone);
      await new Promise((r) => setTimeout(r, 5));
      await watchClock.advance(5000);
      expect(watch.signal.aborted, def.monitor ? 'with a monitor' : 'without').toBe(parks);
      run.abort(new Error('the workflow job was canceled'));
      await within(5000, step);
    }
  });

  it('fails the step and withdraws the gate when the relay refuses the monitor’s verdict for good, without waiting out the timeout', async () => {
    const h = harness({ webhooks: [webhookDef('Build', { monitor: status })] });
    h.answer = () => new Response('{}', { status: 201, headers: { location: 'https://jenkins.example/queue/item/7/' } });
    h.relay.holdPolls = true;
    const refusal = 'monitor Build: the relay refused its success (HTTP 404: no such gate), so the gate was withdrawn; the verdict was: monitor: SUCCESS';
    monitor.run = async () => refusal;
    const step = await within(5000, webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone));
    expect(step).toMatchObject({ state: 'failed', message: refusal });
    expect(h.relay.gate('Build')).toMatchObject({ state: 'canceled', message: refusal });
    expect(h.story()).toContain(`[staging] ${refusal}`);
  });

  it('is not started without a monitor, nor for a call the parked run made', async () => {
    const h = harness({ webhooks: [webhookDef('Build')] });
    h.relay.decisions.set('Build', { state: 'succeeded' });
    await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    const resumed = harness({ webhooks: [webhookDef('Build', { monitor: status })] });
    resumed.relay.decisions.set('Build', { state: 'succeeded' });
    const { fx } = parkingEffects(resumed, { parkAfterMs: 3_600_000, watchClock: new ManualClock(), entries: [entry('staging/afterDeployment/0#called', { type: 'called' })] });
    expect((await fx.gate(staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone)).state).toBe('succeeded');
    expect(monitor.calls).toEqual([]);
  });
});
