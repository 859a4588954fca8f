/** The job summary: one table per target, each step's outcome and duration, the callbacks' messages. */
import type { RunReport, StepReport, TargetOutcome } from '../engine/report.ts';
import { formatDuration } from '../lib/time.ts';

const ICON: Record<TargetOutcome | StepReport['state'], string> = {
  succeeded: '✅',
  'rolled-back': '↩️',
  failed: '❌',
  canceled: '⏹️',
  'timed-out': '⌛',
  skipped: '⏭️',
};

/** Markdown for `$GITHUB_STEP_SUMMARY`. */
export function summaryMarkdown(report: RunReport): string {
  const lines = [
    `## hookgate: ${escapeText(report.application)} — ${ICON[report.result]} ${report.result}`,
    '',
    `Deployment \`${escapeCode(report.deploymentId)}\``,
    '',
  ];
  for (const target of report.targets) {
    lines.push(`### ${ICON[target.outcome]} ${escapeText(target.target)}: ${target.outcome}`, '', paragraph(target.message), '');
    if (target.steps.length === 0) continue;
    lines.push('| Phase | Step | Outcome | Duration | Message |', '| --- | --- | --- | --- | --- |');
    for (const step of target.steps) {
      const duration = formatDuration(Date.parse(step.end) - Date.parse(step.start));
      const messages = [...step.progress.map((p) => `(progress) ${p}`), step.message ?? ''].filter(Boolean);
      lines.push(
        `| ${step.phase} | ${step.kind} ${cell([step.name])} | ${ICON[step.state]} ${step.state} | ${duration} | ${cell(messages)} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** A table cell: pipes escaped, line breaks as <br>, and no raw HTML from external messages. */
function cell(parts: string[]): string {
  return parts.map((part) => escapeText(part).replace(/\r\n|\r|\n/g, '<br>')).join('<br>');
}

/**
 * A paragraph of one line: a message from outside must not open a block (heading, list, quote,
 * thematic break, or a code fence that would swallow the rest of the summary).
 */
function paragraph(text: string): string {
  return cell([text.trimStart()])
    .replace(/^([#>+*=_~`-])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2');
}

/** Callback messages are Markdown, but no HTML passes through. */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|');
}

function escapeCode(text: string): string {
  return text.replace(/`/g, "'");
}
