/**
 * The job summary: a picture of the targets, then one table per target, each step's outcome and
 * duration, the callbacks' messages and outputs; for a parked job, the gates it waits for and how
 * the deployment resumes.
 */
import type { RunReport, StepReport, TargetOutcome } from '../engine/report.ts';
import type { ParkedJob } from '../effects/session.ts';
import { formatDuration } from '../lib/time.ts';
import type { Outputs } from '../../shared/protocol.ts';
import { mermaidGraph } from './mermaid.ts';
import type { GraphNode } from './mermaid.ts';

const ICON: Record<TargetOutcome | StepReport['state'], string> = {
  succeeded: '✅',
  'rolled-back': '↩️',
  failed: '❌',
  canceled: '⏹️',
  'timed-out': '⌛',
  skipped: '⏭️',
  parked: '⏸️',
};

/**
 * Markdown for `$GITHUB_STEP_SUMMARY`; `parked` when the job parked. `graph`: every target of the
 * file with its dependsOn, in run order (a job of one environment ran only some); without it, the
 * picture shows the report's targets and no arrows.
 */
export function summaryMarkdown(report: RunReport, parked: ParkedJob | null = null, graph?: readonly GraphNode[]): string {
  const lines = [
    `## hookgate: ${inline(report.application)} — ${ICON[report.result]} ${report.result}`,
    '',
    `Deployment \`${escapeCode(report.deploymentId)}\``,
    '',
  ];
  const outcomes = new Map(report.targets.map((t) => [t.target, t.outcome]));
  const chart = mermaidGraph(graph ?? report.targets.map((t) => ({ name: t.target, dependsOn: [] })), outcomes);
  if (chart.length > 0) lines.push('```mermaid', ...chart, '```', '');
  for (const target of report.targets) {
    lines.push(`### ${ICON[target.outcome]} ${inline(target.target)}: ${target.outcome}`, '', paragraph(target.message), '');
    if (target.steps.length === 0) continue;
    lines.push('| Phase | Step | Outcome | Duration | Message |', '| --- | --- | --- | --- | --- |');
    for (const step of target.steps) {
      const duration = formatDuration(Date.parse(step.end) - Date.parse(step.start));
      const messages = [...step.progress.map((p) => `(progress) ${p}`), step.message ?? ''].filter(Boolean);
      const outputs = step.outputs === undefined ? [] : outputLines(step.outputs);
      lines.push(
        `| ${step.phase} | ${step.kind} ${cell([step.name])} | ${ICON[step.state]} ${step.state} | ${duration} | ${[cell(messages), ...outputs].filter(Boolean).join('<br>')} |`,
      );
    }
    lines.push('');
  }
  if (parked) lines.push(...parkedLines(parked));
  return lines.join('\n');
}

/** The gates a parked job waits for (approval links included), and how the deployment resumes. */
function parkedLines(parked: ParkedJob): string[] {
  const { waits, answer, resume, deploymentId } = parked;
  const lines = ['### ⏸️ Parked: the job waits without a runner', ''];
  if (waits.gates.length > 0) {
    lines.push('| Target | Gate | Waits until | Approve or reject |', '| --- | --- | --- | --- |');
    for (const gate of waits.gates) {
      const link = gate.approvalUrl && /^https?:\/\/[^\s()<>]+$/.test(gate.approvalUrl) ? `[approval page](${gate.approvalUrl})` : '';
      lines.push(`| ${cell([gate.target])} | ${gate.kind} ${cell([gate.name])} | ${new Date(gate.deadline).toISOString()} | ${link} |`);
    }
    lines.push('');
  }
  if (waits.targets.length > 0) lines.push(paragraph(`Upstream targets it waits for: ${waits.targets.join(', ')}`), '');
  const workflow = resume.workflow.split('/').at(-1) ?? resume.workflow;
  const ref = /^refs\/(?:heads|tags)\/(.+)$/.exec(resume.ref)?.[1] ?? null;
  if (answer.resume === 'automatic') {
    lines.push(
      paragraph(`Resumes automatically: hookgate dispatches ${workflow} on ${ref ?? resume.ref} with hookgate-resume=${deploymentId} once every gate and upstream target above is final.`),
      '',
    );
  } else {
    lines.push(paragraph(`Resumes by hand${answer.reason ? ` (${answer.reason})` : ''}: once every gate above is final,`), '');
    // A pull request's merge ref cannot be dispatched: only a re-run resumes it.
    if (ref === null) lines.push('re-run this run.', '');
    else {
      const command = ['gh', 'workflow', 'run', workflow, '--ref', ref, '-f', `hookgate-resume=${deploymentId}`].map(shellArg).join(' ');
      lines.push('run', '', '```sh', command, '```', '', 'or re-run this run.', '');
    }
  }
  return lines;
}

/** Longest output value shown: the `outputs` output and the report carry them whole. */
const MAX_OUTPUT_CHARS = 200;

/**
 * A step's outputs for its table cell, one `key` = `value` per line. Values are data, not Markdown:
 * each is a code span (no link, no emphasis, no HTML), on one line, its pipes escaped for the table.
 */
function outputLines(outputs: Outputs): string[] {
  const entries = Object.entries(outputs);
  if (entries.length === 0) return [];
  return [
    '**outputs**',
    ...entries.map(([key, value]) => {
      const text = String(value);
      const shown = [...text].length > MAX_OUTPUT_CHARS ? `${[...text].slice(0, MAX_OUTPUT_CHARS - 1).join('')}…` : text;
      return `${codeSpan(key)} = ${typeof value === 'string' ? codeSpan(shown) : shown}`;
    }),
  ];
}

/** `text` as an inline code span inside a table cell: a fence longer than any backtick run in it, one line, `|` escaped. */
function codeSpan(text: string): string {
  const flat = text.replace(/[\r\n\u2028\u2029]+/g, ' ');
  if (flat === '') return '""';
  const fence = '`'.repeat(Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length)) + 1);
  // A span whose text starts or ends with a backtick needs a space inside the fence (CommonMark strips one).
  const pad = flat.startsWith('`') || flat.endsWith('`') || (flat.startsWith(' ') && flat.endsWith(' ')) ? ' ' : '';
  return `${fence}${pad}${flat.replace(/\|/g, '\\|')}${pad}${fence}`;
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

/** A name inside a heading: on the heading's one line, so a line break cannot start a block (a fence, say). */
function inline(text: string): string {
  return escapeText(text).replace(/[\r\n\u2028\u2029]+/g, ' ');
}

/** Callback messages are Markdown, but no HTML passes through. */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|');
}

function escapeCode(text: string): string {
  return text.replace(/`/g, "'");
}

/**
 * One argument of a shell command a person copies: as it is when it holds only safe characters,
 * else in single quotes (a branch name may hold `$(…)`, `;` or a quote; the command must run only itself).
 */
function shellArg(value: string): string {
  return /^[\w./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
