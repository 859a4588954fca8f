import { describe, expect, it } from 'vitest';
import { commandStep } from '../../../action/effects/command.ts';
import { target } from '../fakes.ts';
import { harness } from './harness.ts';

const live = (): AbortSignal => new AbortController().signal;

describe('commandStep', () => {
  it('runs the script in a log group with the HOOKGATE_* variables, its output as the user’s own', async () => {
    const h = harness();
    const staging = target('staging', { commands: { setWeight: 'echo "$HOOKGATE_TARGET $HOOKGATE_DEPLOYMENT_ID $HOOKGATE_APPLICATION $HOOKGATE_WEIGHT"; echo "::add-mask::mine"' } });
    const step = await commandStep(h.ctx, staging, 'setWeight', 'strategy', { HOOKGATE_WEIGHT: '25' }, live());
    expect(step).toMatchObject({ kind: 'command', name: 'setWeight 25%', phase: 'strategy', state: 'succeeded', message: null });
    expect(h.log.lines).toEqual([
      `group: [staging] Running setWeight 25%: ${staging.commands.setWeight}`,
      // The user's script may mean its workflow commands: they reach the log as command output.
      'output: staging octo/app/42 potato-facts 25',
      'output: ::add-mask::mine',
      'endgroup',
      'info: [staging] setWeight 25% finished',
    ]);
  });

  it('fails with the exit code and the last lines of output', async () => {
    const h = harness();
    const staging = target('staging', { commands: { deploy: 'echo one; echo two; exit 3' } });
    const step = await commandStep(h.ctx, staging, 'deploy', 'deploy', {}, live());
    expect(step).toMatchObject({ state: 'failed', message: 'echo one; echo two; exit 3 exited with 3; last output: one / two' });
    expect(h.story()).toEqual(['[staging] deploy failed with exit code 3']);
  });

  it('succeeds without running anything when the command is not configured', async () => {
    const h = harness();
    const step = await commandStep(h.ctx, target('staging'), 'rollback', 'rollback', {}, live());
    expect(step).toMatchObject({ name: 'rollback', state: 'succeeded', message: 'no command configured' });
    expect(h.story()).toEqual(['[staging] No rollback command: nothing to run for rollback']);
  });
});
