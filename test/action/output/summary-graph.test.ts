// The summary's picture of the targets and each step's outputs, rendered as GitHub renders Markdown
// (tables, raw HTML allowed until its sanitizer) to see what a reader would get.
import MarkdownIt from 'markdown-it';
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
  end: '2025-01-01T10:00:05.000Z',
  ...fields,
});

const target = (name: string, fields: Partial<TargetReport> = {}): TargetReport => ({
  target: name,
  outcome: 'succeeded',
  message: `${name} deployed`,
  steps: [step()],
  start: '2025-01-01T10:00:00.000Z',
  end: '2025-01-01T10:00:05.000Z',
  ...fields,
});

const run = (targets: TargetReport[]): RunReport => ({ deploymentId: 'octo/app/42', application: 'potato-facts', result: 'failed', targets });

const markdownIt = new MarkdownIt({ html: true });
const render = (markdown: string): string => markdownIt.render(markdown);

/** The lines of the ```mermaid block. */
function chart(markdown: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf('```mermaid');
  const end = lines.indexOf('```', start + 1);
  expect(start).toBe(4);
  return lines.slice(start + 1, end);
}

describe('the summary graph', () => {
  it('starts the summary, after the heading, with the targets coloured by outcome and their dependsOn arrows', () => {
    const report = run([target('staging'), target('prod', { outcome: 'failed', message: 'prod failed' })]);
    const markdown = summaryMarkdown(report, null, [
      { name: 'staging', dependsOn: [] },
      { name: 'prod', dependsOn: ['staging'] },
    ]);
    expect(chart(markdown)).toEqual([
      'flowchart LR',
      '  t0["✅ staging: succeeded"]:::succeeded',
      '  t1["❌ prod: failed"]:::failed',
      '  t0 --> t1',
      '  classDef succeeded fill:#dafbe1,stroke:#1a7f37,color:#0d3b1e',
      '  classDef failed fill:#ffebe9,stroke:#cf222e,color:#5c0d12',
    ]);
    const html = render(markdown);
    expect(html).toContain('<pre><code class="language-mermaid">flowchart LR');
    // The target sections come after the picture, not inside it.
    expect(html).toMatch(/<\/code><\/pre>\n<h3>✅ staging: succeeded<\/h3>/);
  });

  it('without the plan, draws the targets of the report without arrows', () => {
    const markdown = summaryMarkdown(run([target('staging'), target('prod')]));
    expect(chart(markdown).filter((l) => l.includes('-->'))).toEqual([]);
    expect(chart(markdown).filter((l) => l.includes(':::'))).toHaveLength(2);
  });

  it('keeps a hostile target name inside its label: one code block, no HTML, the rest of the summary intact', () => {
    const evil = '```\n</code></pre><script>alert(1)</script>\n# owned';
    const markdown = summaryMarkdown(run([target(evil)]), null, [{ name: evil, dependsOn: [] }]);
    const html = render(markdown);
    expect(html.match(/<pre>/g)).toHaveLength(1);
    expect(html).not.toContain('<script>');
    expect(html).not.toMatch(/<h1>/);
    expect(chart(markdown)).toHaveLength(3);
  });
});

describe('step outputs in the summary', () => {
  /** The cells of the table rows, as rendered. */
  function cells(markdown: string): string[][] {
    const html = render(markdown);
    return [...html.matchAll(/<tr>\n([\s\S]*?)<\/tr>/g)].slice(1).map((row) => [...(row[1] ?? '').matchAll(/<td>([\s\S]*?)<\/td>/g)].map((c) => c[1] ?? ''));
  }

  it('lists each key and value under the step, values as code', () => {
    const markdown = summaryMarkdown(run([target('staging', { steps: [step({ message: 'tests passed', outputs: { build: '1234', passed: true, count: 7 } })] })]));
    const row = markdown.split('\n').find((line) => line.startsWith('| afterDeployment'));
    expect(row).toBe('| afterDeployment | webhook Run-Tests | ✅ succeeded | 5s | tests passed<br>**outputs**<br>`build` = `1234`<br>`passed` = true<br>`count` = 7 |');
  });

  it('shows no outputs line for a step without outputs or with none', () => {
    const markdown = summaryMarkdown(run([target('staging', { steps: [step(), step({ name: 'Other', outputs: {} })] })]));
    expect(markdown).not.toContain('outputs');
  });

  it.each([
    ['a pipe', 'a | b', 'a | b'],
    ['HTML', '<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    ['a link', '[click](javascript:alert(1))', '[click](javascript:alert(1))'],
    ['backticks', 'x ``` y `', 'x ``` y `'],
    ['a line break', 'one\n| --- |\ntwo', 'one | --- | two'],
    ['emphasis', '**bold** _it_', '**bold** _it_'],
  ])('shows a value with %s as text, in its own cell', (_what, value, text) => {
    const markdown = summaryMarkdown(run([target('staging', { steps: [step({ outputs: { v: value } })] })]));
    const rows = cells(markdown);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toHaveLength(5);
    const code = [...(rows[0]?.[4] ?? '').matchAll(/<code>([\s\S]*?)<\/code>/g)].map((m) => m[1]);
    expect(code).toEqual(['v', text]);
  });

  it('shortens a long value', () => {
    const markdown = summaryMarkdown(run([target('staging', { steps: [step({ outputs: { log: 'x'.repeat(5000) } })] })]));
    expect(markdown).toContain(`\`log\` = \`${'x'.repeat(199)}…\``);
    expect(markdown).not.toContain('x'.repeat(200));
  });

  it('writes an empty string so it can be seen', () => {
    const markdown = summaryMarkdown(run([target('staging', { steps: [step({ outputs: { empty: '' } })] })]));
    expect(markdown).toContain('`empty` = ""');
  });
});
