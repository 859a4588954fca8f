import { describe, expect, it } from 'vitest';
import { MAX_CANCEL_REASON_CHARS, MAX_GRAPH_TARGETS } from '../../../shared/protocol.ts';
import { registerGate, waitFor, withdraw } from '../../../action/effects/relay-gate.ts';
import { plan, target } from '../fakes.ts';
import { createContext } from '../../../action/effects/context.ts';
import { harness } from './harness.ts';

const live = (): AbortSignal => new AbortController().signal;
const staging = target('staging');

describe('registerGate', () => {
  it('registers under a step key with the attempt, target, key and name, and the run described', async () => {
    const h = harness({ settings: { github: { ...harness().ctx.settings.github, runAttempt: '3' } } });
    const gate = await registerGate(h.ctx, staging, 'beforeDeployment', { kind: 'webhook', name: 'Tests', key: 'beforeDeployment/0', timeoutSeconds: 60 }, live());
    expect(gate.stepKey).toBe('attempt-3/staging/beforeDeployment/0/Tests');
    expect(h.relay.requests[0]?.body).toMatchObject({
      runId: 'octo/app/42',
      target: 'staging',
      phase: 'beforeDeployment',
      kind: 'webhook',
      attempt: 3,
      requiresRoles: [],
      run: { application: 'potato-facts', repository: 'octo/app', sha: 'c0ffee', runUrl: 'https://github.com/octo/app/actions/runs/42' },
    });
  });
});

describe('the run’s graph in a registration', () => {
  const spec = { kind: 'webhook' as const, name: 'Tests', key: 'beforeDeployment/0', timeoutSeconds: 60 };
  const graphOf = (h: ReturnType<typeof harness>): unknown => (h.relay.requests[0]?.body as { run: { graph?: unknown } }).run.graph;

  it('names every target of the plan with its dependsOn', async () => {
    const targets = [target('staging'), target('qa'), target('prod', { dependsOn: ['staging', 'qa'] })];
    const h = harness({ plan: plan(targets) });
    await registerGate(h.ctx, staging, 'beforeDeployment', spec, live());
    expect(graphOf(h)).toEqual([
      { name: 'staging', dependsOn: [] },
      { name: 'qa', dependsOn: [] },
      { name: 'prod', dependsOn: ['staging', 'qa'] },
    ]);
  });

  it('names the whole file’s targets in a job of one target (allTargets), not only its own', async () => {
    const prod = target('prod', { dependsOn: ['staging'] });
    const h = harness({ plan: plan([prod]) });
    const ctx = createContext({ ...h.ctx, allTargets: [target('staging'), prod] });
    await registerGate(ctx, prod, 'beforeDeployment', spec, live());
    expect(graphOf(h)).toEqual([
      { name: 'staging', dependsOn: [] },
      { name: 'prod', dependsOn: ['staging'] },
    ]);
  });

  it('is left out past MAX_GRAPH_TARGETS targets (the page lists them without the picture)', async () => {
    const many = Array.from({ length: MAX_GRAPH_TARGETS + 1 }, (_, i) => target(`t${i}`));
    const h = harness({ plan: plan(many) });
    await registerGate(h.ctx, staging, 'beforeDeployment', spec, live());
    expect(graphOf(h)).toBeUndefined();
    const fits = harness({ plan: plan(many.slice(0, MAX_GRAPH_TARGETS)) });
    await registerGate(fits.ctx, staging, 'beforeDeployment', spec, live());
    expect(graphOf(fits)).toHaveLength(MAX_GRAPH_TARGETS);
  });
});

describe('waitFor', () => {
  it('answers the decided gate and tells each progress report once', async () => {
    const h = harness();
    const gate = await registerGate(h.ctx, staging, 'strategy', { kind: 'webhook', name: 'Health', key: 'strategy/0', timeoutSeconds: 60 }, live());
    h.relay.decisions.set('Health', { state: 'failed', message: 'red', progress: [{ seq: 1, at: 0, message: 'half way' }] });
    const decided = await waitFor(h.ctx, staging, 'strategy', 'the callback of Health', 'Health', gate, live());
    expect(decided).toMatchObject({ state: 'failed', message: 'red' });
    expect(h.story()).toEqual(['[staging] Progress from Health: half way']);
  });
});

describe('withdraw', () => {
  it('cancels only this gate, with the reason redacted', async () => {
    const h = harness();
    const gate = await registerGate(h.ctx, staging, 'strategy', { kind: 'webhook', name: 'Health', key: 'strategy/0', timeoutSeconds: 60 }, live());
    await withdraw(h.ctx, gate, 'withdrawn: HTTP 500 for token s3cr3t-value-xyz');
    expect(h.relay.requests.at(-1)?.body).toEqual({ runId: 'octo/app/42', reason: 'withdrawn: HTTP 500 for token ***', gateIds: [gate.gateId] });
    expect(h.relay.gate('Health').state).toBe('canceled');
  });

  // A reason cut inside an emoji holds a lone surrogate: the relay refused the cancel and the gate stayed pending.
  it('cuts a long reason at a code point boundary within the relay’s limit, so the relay accepts it', async () => {
    const h = harness();
    const gate = await registerGate(h.ctx, staging, 'strategy', { kind: 'webhook', name: 'Health', key: 'strategy/0', timeoutSeconds: 60 }, live());
    const reason = `${'x'.repeat(MAX_CANCEL_REASON_CHARS - 1)}🚀 and more`;
    await withdraw(h.ctx, gate, reason);
    const sent = (h.relay.requests.at(-1)?.body as { reason: string }).reason;
    // The emoji is the limit's last code point: kept whole (a UTF-16 cut would leave half of it).
    expect(sent).toBe(`${'x'.repeat(MAX_CANCEL_REASON_CHARS - 1)}🚀`);
    expect(h.relay.gate('Health').state).toBe('canceled');
    expect(h.log.lines.filter((l) => l.startsWith('warning'))).toEqual([]);
  });

  it('turns a relay that refuses into a warning', async () => {
    const h = harness();
    const gate = await registerGate(h.ctx, staging, 'strategy', { kind: 'webhook', name: 'Health', key: 'strategy/0', timeoutSeconds: 60 }, live());
    h.relay.refusals.set('POST /v1/runs/cancel', 503);
    await withdraw(h.ctx, gate, 'withdrawn');
    expect(h.log.lines).toContain('warning: could not cancel gate Health at the relay: relay answered 503: scripted 503');
  });
});
