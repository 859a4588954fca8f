import { describe, expect, it } from 'vitest';
import type { RunReport, StepReport, TargetReport } from '../../../action/engine/report.ts';
import { summaryMarkdown } from '../../../action/output/summary.ts';

const step = (fields: Partial<StepReport> = {}): StepReport => ({
  kind: 'webhook',
  name: 'Run-Tests',
  phase: 'afterDeployment',
  state: 'succeeded',
  message: null,
  progress: [],
  start: '2025-01-01T10:00:00.000Z',
  end: '2025-01-01T10:03:20.000Z',
  ...fields,
});

const targetReport = (fields: Partial<TargetReport> = {}): TargetReport => ({
  target: 'staging',
  outcome: 'succeeded',
  message: 'staging deployed',
  steps: [step()],
  start: '2025-01-01T10:00:00.000Z',
  end: '2025-01-01T10:03:20.000Z',
  ...fields,
});

const run = (targets: TargetReport[], fields: Partial<RunReport> = {}): RunReport => ({
  deploymentId: 'octo/app/42',
  application: 'potato-facts',
  result: 'succeeded',
  targets,
  ...fields,
});

/** The table rows (lines starting with `| `) after the header and separator. */
const rows = (markdown: string): string[] =>
  markdown.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Phase') && !line.startsWith('| ---'));

describe('summaryMarkdown', () => {
  it('has a heading with the application and result, the deployment id, and one table per target', () => {
    const markdown = summaryMarkdown(
      run(
        [
          targetReport({ steps: [step({ kind: 'command', name: 'deploy', phase: 'deploy' }), step()] }),
          targetReport({ target: 'prod', outcome: 'failed', message: 'prod not deployed', steps: [step({ phase: 'beforeDeployment', state: 'failed' })] }),
        ],
        { result: 'failed' },
      ),
    );
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('## hookgate: potato-facts — ❌ failed');
    expect(markdown).toContain('Deployment `octo/app/42`');
    expect(markdown).toContain('### ✅ staging: succeeded');
    expect(markdown).toContain('### ❌ prod: failed');
    expect(lines.filter((l) => l === '| Phase | Step | Outcome | Duration | Message |')).toHaveLength(2);
    expect(rows(markdown)).toEqual([
      '| deploy | command deploy | ✅ succeeded | 3m 20s |  |',
      '| afterDeployment | webhook Run-Tests | ✅ succeeded | 3m 20s |  |',
      '| beforeDeployment | webhook Run-Tests | ❌ failed | 3m 20s |  |',
    ]);
  });

  it('writes no table for a target that never started', () => {
    const markdown = summaryMarkdown(
      run([targetReport({ target: 'prod', outcome: 'canceled', message: 'prod canceled: upstream target staging failed', steps: [], start: null, end: null })], {
        result: 'canceled',
      }),
    );
    expect(markdown).toContain('### ⏹️ prod: canceled');
    expect(markdown).toContain('prod canceled: upstream target staging failed');
    expect(markdown).not.toContain('| Phase');
  });

  it('shows the callback message and the progress reports in the step row', () => {
    const markdown = summaryMarkdown(
      run([targetReport({ steps: [step({ message: 'All **412** tests passed', progress: ['100 done', '300 done'] })] })]),
    );
    expect(rows(markdown)).toEqual([
      '| afterDeployment | webhook Run-Tests | ✅ succeeded | 3m 20s | (progress) 100 done<br>(progress) 300 done<br>All **412** tests passed |',
    ]);
  });

  it('lets no HTML from a callback message through', () => {
    const markdown = summaryMarkdown(
      run([
        targetReport({
          message: 'staging not deployed: <img src=x onerror=alert(1)>',
          steps: [step({ message: '<script>alert("hi")</script> & <b>bold</b>', progress: ['<iframe src="https://evil.example">'] })],
        }),
      ]),
    );
    expect(markdown).not.toMatch(/<(script|img|iframe|b)\b/i);
    expect(markdown).toContain('&lt;script&gt;alert("hi")&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(markdown).toContain('staging not deployed: &lt;img src=x onerror=alert(1)&gt;');
  });

  it('escapes pipes so a message cannot add table cells', () => {
    const markdown = summaryMarkdown(run([targetReport({ steps: [step({ name: 'a|b', message: 'x | y | z' })] })]));
    const [row] = rows(markdown);
    expect(row).toBe('| afterDeployment | webhook a\\|b | ✅ succeeded | 3m 20s | x \\| y \\| z |');
    expect(row?.split(/(?<!\\)\|/)).toHaveLength(7);
  });

  it('keeps a multi-line message inside its row', () => {
    const markdown = summaryMarkdown(run([targetReport({ steps: [step({ message: 'line one\nline two\r\nline three' })] })]));
    expect(rows(markdown)).toEqual(['| afterDeployment | webhook Run-Tests | ✅ succeeded | 3m 20s | line one<br>line two<br>line three |']);
  });

  // A lone \r is a Markdown line ending too: left alone it would end the table row early.
  it('keeps a message with a lone carriage return inside its row', () => {
    const markdown = summaryMarkdown(run([targetReport({ steps: [step({ message: 'line one\rline two' })] })]));
    expect(markdown).not.toContain('\r');
    expect(rows(markdown)).toEqual(['| afterDeployment | webhook Run-Tests | ✅ succeeded | 3m 20s | line one<br>line two |']);
  });

  it('cannot break out of the deployment id code span', () => {
    const markdown = summaryMarkdown(run([], { deploymentId: 'a`b' }));
    expect(markdown).toContain("Deployment `a'b`");
  });

  it('escapes HTML in the application and target names', () => {
    const markdown = summaryMarkdown(run([targetReport({ target: '<u>x</u>', steps: [] })], { application: '<b>app</b>' }));
    expect(markdown).toContain('## hookgate: &lt;b&gt;app&lt;/b&gt;');
    expect(markdown).toContain('### ✅ &lt;u&gt;x&lt;/u&gt;: succeeded');
  });

  // The target's message carries a callback's text: it stays one paragraph, whatever it starts with.
  it.each([
    ['a heading', '# Pwned', '\\# Pwned'],
    ['a code fence that would swallow the rest', '```\nall below is code', '\\```<br>all below is code'],
    ['a list', '1. item', '1\\. item'],
    ['a thematic break after a line break', 'x\n---\n> quote', 'x<br>---<br>&gt; quote'],
    ['an indented code block', '    code', 'code'],
  ])('keeps a target message that starts %s one paragraph', (_what, message, paragraph) => {
    const lines = summaryMarkdown(run([targetReport({ message, steps: [] })])).split('\n');
    const heading = lines.indexOf('### ✅ staging: succeeded');
    expect(lines.slice(0, 5)).toEqual(['## hookgate: potato-facts — ✅ succeeded', '', 'Deployment `octo/app/42`', '', '```mermaid']);
    // The graph's fence is closed before the target's part begins.
    expect(lines.slice(heading - 2, heading)).toEqual(['```', '']);
    expect(lines.slice(heading)).toEqual(['### ✅ staging: succeeded', '', paragraph, '']);
  });
});
