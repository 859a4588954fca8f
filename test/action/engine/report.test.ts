import { describe, expect, it } from 'vitest';
import { collectOutputs } from '../../../action/engine/report.ts';
import type { RunReport, StepReport, TargetReport } from '../../../action/engine/report.ts';

const step = (kind: StepReport['kind'], name: string, outputs?: StepReport['outputs']): StepReport => ({
  kind,
  name,
  phase: 'beforeDeployment',
  state: 'succeeded',
  message: null,
  progress: [],
  start: '2025-01-01T00:00:00.000Z',
  end: '2025-01-01T00:00:01.000Z',
  ...(outputs ? { outputs } : {}),
});
const target = (name: string, steps: StepReport[]): TargetReport => ({ target: name, outcome: 'succeeded', message: '', steps, start: null, end: null });
const report = (targets: TargetReport[]): RunReport => ({ deploymentId: 'octo/app/42', application: 'app', result: 'succeeded', targets });

describe('collectOutputs', () => {
  it('keys outputs by target and step name, approvals as approval, a later step of a name winning', () => {
    const outputs = collectOutputs(
      report([
        target('staging', [step('webhook', 'Run-Tests', { build: 'b-1' }), step('command', 'deploy'), step('webhook', 'Run-Tests', { build: 'b-2', passed: true })]),
        target('prod', [step('approval', 'manual approval', { decision: 'approved', comment: '', approvedBy: 'mona' }), step('webhook', 'Notify')]),
        target('qa', [step('webhook', 'Notify')]),
      ]),
    );
    expect(outputs).toEqual({
      staging: { 'Run-Tests': { build: 'b-2', passed: true } },
      prod: { approval: { decision: 'approved', comment: '', approvedBy: 'mona' } },
    });
  });
});
