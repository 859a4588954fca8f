import { describe, expect, it } from 'vitest';
import { createTargetEffects } from '../../../action/effects/index.ts';
import { pause, target, webhook } from '../fakes.ts';
import { harness, webhookDef } from './harness.ts';

const live = (): AbortSignal => new AbortController().signal;

describe('createTargetEffects', () => {
  it('sends each gate item to its kind’s step and shares the context: clock, story, approvals', async () => {
    const h = harness({ webhooks: [webhookDef('Tests', { disableCallback: true })] });
    const fx = createTargetEffects(h.ctx);
    const staging = target('staging');
    const list = { items: [pause(5)], keys: ['strategy/0'] };
    expect((await fx.gate(staging, 'strategy', pause(5), 'strategy/0', live(), list)).kind).toBe('pause');
    expect((await fx.gate(staging, 'strategy', webhook('Tests'), 'strategy/1', live(), list)).kind).toBe('webhook');
    expect((await fx.command(staging, 'deploy', 'deploy', {}, live(), 'deploy')).kind).toBe('command');
    fx.log(staging, 'staging deployed');
    expect(fx.now()).toBe(h.clock.now());
    expect(h.story().at(-1)).toBe('[staging] staging deployed');
  });
});
