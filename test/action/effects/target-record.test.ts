import { describe, expect, it } from 'vitest';
import { MAX_TARGET_MESSAGE_CHARS } from '../../../shared/protocol.ts';
import { createRecordEffects } from '../../../action/effects/target-record.ts';
import { target } from '../fakes.ts';
import { harness } from './harness.ts';

const staging = target('staging');
const live = (): AbortSignal => new AbortController().signal;

describe('status', () => {
  it('records running at the relay and starts the GitHub deployment, the message redacted', async () => {
    const h = harness();
    await createRecordEffects(h.ctx).status(staging, 'running', 'deploying with s3cr3t-value-xyz');
    expect(h.relay.targets.get('staging')).toMatchObject({ runId: 'octo/app/42', attempt: 1, status: 'running', message: 'deploying with ***' });
    expect(h.deployments.calls).toEqual(['start staging: deploying with ***']);
  });

  it('records the outcome and finishes the GitHub deployment, telling it a rollback failed', async () => {
    const h = harness();
    await createRecordEffects(h.ctx).status(staging, 'failed', 'staging failed, and so did its rollback', { rollbackFailed: true });
    expect(h.relay.targets.get('staging')?.status).toBe('failed');
    expect(h.deployments.calls).toEqual(['finish staging failed (rollback failed): staging failed, and so did its rollback']);
  });

  it('in afterDeployment gate mode does not start another GitHub deployment: the beforeDeployment step did', async () => {
    const h = harness({ settings: { phase: 'afterDeployment', target: 'staging' } });
    await createRecordEffects(h.ctx).status(staging, 'running', 'afterDeployment gates');
    expect(h.relay.targets.get('staging')?.status).toBe('running');
    expect(h.deployments.calls).toEqual([]);
  });

  // A message cut inside an emoji holds a lone surrogate: the relay refused the record, and
  // the jobs of dependent targets waited for it up to 24 hours.
  it('cuts a long message at a code point boundary within the relay’s limit, so the target is recorded', async () => {
    const h = harness();
    const message = `${'m'.repeat(MAX_TARGET_MESSAGE_CHARS - 1)}🚀 the rest`;
    await createRecordEffects(h.ctx).status(staging, 'succeeded', message);
    expect(h.relay.targets.get('staging')).toMatchObject({ status: 'succeeded', message: `${'m'.repeat(MAX_TARGET_MESSAGE_CHARS - 1)}🚀` });
    expect(h.log.lines.filter((l) => l.startsWith('warning'))).toEqual([]);
  });

  it('turns a relay that refuses into a warning; GitHub still hears of it', async () => {
    const h = harness();
    h.relay.refusals.set('POST /v1/runs/targets', 409);
    await createRecordEffects(h.ctx).status(staging, 'succeeded', 'staging deployed');
    expect(h.log.lines).toEqual([
      'warning: [staging] could not record the target as succeeded at the relay (jobs that depend on it may wait): relay answered 409: scripted 409',
    ]);
    expect(h.deployments.calls).toEqual(['finish staging succeeded: staging deployed']);
  });
});

describe('upstream', () => {
  it('answers the final outcome another job recorded', async () => {
    const h = harness();
    h.relay.targets.set('eu', { runId: 'octo/app/42', target: 'eu', attempt: 1, status: 'rolled-back', message: 'eu rolled back', updatedAt: 0 });
    expect(await createRecordEffects(h.ctx).upstream('eu', live())).toEqual({ outcome: 'rolled-back', message: 'eu rolled back' });
    expect(h.log.lines).toEqual([
      'info: hookgate: Upstream target eu is deployed by another job; asking the relay for its outcome …',
      'info: hookgate: Upstream target eu: rolled-back',
    ]);
  });

  it('gives up canceled after waiting as long as a gate may', async () => {
    const h = harness();
    const answer = await createRecordEffects(h.ctx).upstream('eu', live());
    expect(answer).toEqual({ outcome: 'canceled', message: 'it did not finish within 24h' });
    expect(h.log.lines.some((l) => l.startsWith('info: hookgate: Still waiting for upstream target eu (not started yet)'))).toBe(true);
  });

  it('ends canceled, naming why, once its signal aborts', async () => {
    const h = harness();
    const run = new AbortController();
    run.abort(new Error('upstream target us failed'));
    expect(await createRecordEffects(h.ctx).upstream('eu', run.signal)).toEqual({
      outcome: 'canceled',
      message: 'its outcome could not be read: upstream target us failed',
    });
  });
});
