/**
 * The approval page's HTML (SPEC §4). No JavaScript at all: a form posts the decision.
 * Every value is escaped here; Markdown goes through relay/approval/markdown.ts, which lets no
 * raw HTML through, and relay/approval/page-bounds.ts bounds how much of it one page shows.
 */
import type { GateState, GateView } from '../../shared/protocol.ts';
import { earlierReportsNote, hiddenGatesNote, messageRenderer, shownReports } from './page-bounds.ts';
import type { MessageRenderer } from './page-bounds.ts';
import type { ApprovalPage } from '../run/results.ts';
import { escapeHtml } from './html.ts';
import { resumeNote } from './resume-note.ts';
import { decisionSection } from './decision-section.ts';
import type { Viewer } from './viewer.ts';
import { GRAPH_STYLE, graphSection } from './graph.ts';
import { DETAILS_STYLE, heartbeatNote, outputsTable } from './gate-details.ts';

/**
 * Longest run URL the page links (a GitHub run URL has about 70 characters). The protocol puts
 * no bound on it but the 64 KiB body, and the page shows it twice, escaped: a longer one is not shown.
 */
const MAX_LINKED_URL_CHARS = 2000;

const STYLE = `
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
  main { max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 1rem 0; }
  dt { color: #5b6475; } dd { margin: 0; overflow-wrap: anywhere; }
  .box { background: #fff; border: 1px solid #d8dce3; border-radius: 6px; padding: 1rem; margin: 1rem 0; }
  .state { display: inline-block; padding: 0 .5rem; border-radius: 1rem; background: #e4e7ec; font-size: .85rem; }
  .state-succeeded { background: #d3f2dc; } .state-failed, .state-timed-out { background: #fbd9d7; }
  .state-pending { background: #fff0c2; }
  .note { color: #5b6475; font-size: .9rem; }
  ol.gates { list-style: none; padding: 0; } ol.gates > li { background: #fff; border: 1px solid #d8dce3;
    border-radius: 6px; padding: .75rem 1rem; margin: .5rem 0; } ol.gates > li.this { border-color: #4b6bfb; }
  ol.gates > li.note { background: none; border: 0; }
  .md :first-child { margin-top: .25rem; } .md :last-child { margin-bottom: 0; } .plain { white-space: pre-wrap; }
  textarea, input[type=text] { width: 100%; box-sizing: border-box; font: inherit; padding: .4rem; }
  label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
  button { font: inherit; padding: .5rem 1.25rem; margin: 1rem .5rem 0 0; border-radius: 6px; border: 1px solid #888; }
  button.link { border: 0; background: none; padding: 0; margin: 0; text-decoration: underline; color: #4b6bfb; }
  a.button { display: inline-block; padding: .5rem 1.25rem; border-radius: 6px; background: #24292f; color: #fff; text-decoration: none; }
  button[value=approve] { background: #1f883d; color: #fff; } button[value=reject] { background: #cf222e; color: #fff; }
`;

/** An epoch-milliseconds time as ISO 8601 UTC to the second. */
function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A whole page around `body`. */
function pageHtml(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}${GRAPH_STYLE}${DETAILS_STYLE}</style>
</head>
<body><main>
${body}
</main></body>
</html>
`;
}

/** A page that only says what happened and what to do. */
export function messagePage(title: string, text: string): string {
  return pageHtml(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(text)}</p>`);
}

/** The approval page of `page.gate` for `viewer`; `csrf` is the form token, shown only while the gate is pending and the viewer may decide. */
export function approvalPageHtml(page: ApprovalPage, csrf: string, notice?: string, viewer: Viewer = { signIn: 'off' }): string {
  const { gate, run } = page;
  // One Markdown budget for the whole page, spent in page order: this gate's outcome comes first.
  const message = messageRenderer();
  const application = run?.application || '—';
  const sha = run?.sha ?? '';
  // The schema already allows only http(s) run URLs; checked again where it becomes an href.
  const runLink =
    run && run.runUrl.length <= MAX_LINKED_URL_CHARS && /^https?:\/\//i.test(run.runUrl)
      ? `<a href="${escapeHtml(run.runUrl)}" rel="noopener noreferrer">${escapeHtml(run.runUrl)}</a>`
      : '—';
  const details: [string, string][] = [
    ['Application', escapeHtml(application)],
    ['Target', escapeHtml(gate.target)],
    ['Repository', escapeHtml(run?.repository || '—')],
    ['Commit', sha ? `<code title="${escapeHtml(sha)}">${escapeHtml(sha.slice(0, 7))}</code>` : '—'],
    ['Ref', escapeHtml(run?.ref || '—')],
    ['Started by', escapeHtml(run?.actor || '—')],
    ['Run', `${runLink} <span class="note">(attempt ${gate.attempt})</span>`],
  ];
  return pageHtml(
    `${gate.state === 'pending' ? 'Approve' : 'Approval'} ${gate.name} — ${gate.target} — ${application}`,
    `<h1>${escapeHtml(gate.name)}</h1>
<p>Approval to deploy <strong>${escapeHtml(application)}</strong> to <strong>${escapeHtml(gate.target)}</strong>.</p>
${notice ? `<p class="box"><strong>${escapeHtml(notice)}</strong></p>` : ''}
<dl>${details.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join('')}</dl>
<section class="box">${outcome(gate, message)}</section>
${resumeNote(page.resume ?? null)}
${decisionSection(page, viewer, csrf)}
${graphSection(page.graph, gate.target)}
<h2>Gates of ${escapeHtml(gate.target)}, attempt ${gate.attempt}</h2>
<ol class="gates">
${gateList(page, message)}
</ol>`,
  );
}

function outcome(gate: GateView, message: MessageRenderer): string {
  const state = stateBadge(gate);
  if (gate.state === 'pending') {
    const deadline = `<time>${isoTime(gate.deadline)}</time>`;
    return `<p>This approval is ${state}. It expires at ${deadline}; with no decision by then it fails.</p>`;
  }
  const when = gate.decidedAt === null ? '' : ` at <time>${isoTime(gate.decidedAt)}</time>`;
  const by = gate.decidedBy === null ? '' : ` by <strong>${escapeHtml(gate.decidedBy)}</strong>`;
  const comment = gate.message === null ? '' : message(gate.message);
  return `<p>This approval is ${state}${by}${when}.</p>${comment}`;
}

/** The list items of the gates the run object chose to show, with a note for any it left out. */
function gateList(page: ApprovalPage, message: MessageRenderer): string {
  const items = page.gates.map((sibling) => gateItem(sibling, sibling.gateId === page.gate.gateId, message));
  const notes = [hiddenGatesNote(page.hiddenBefore, 'earlier'), hiddenGatesNote(page.hiddenAfter, 'later')];
  return [notes[0], ...items, notes[1]].filter(Boolean).join('\n');
}

function gateItem(gate: GateView, current: boolean, message: MessageRenderer): string {
  const text = gate.message === null ? '' : message(gate.message);
  const { shown, earlier } = shownReports(gate.progress);
  const reports = shown.map((report) => `<li><time>${isoTime(report.at)}</time>${message(report.message)}</li>`);
  const progress = reports.length === 0 ? '' : `${earlierReportsNote(earlier)}<ul>${reports.join('')}</ul>`;
  const decidedBy = gate.decidedBy === null ? '' : `<p class="note">Decided by ${escapeHtml(gate.decidedBy)}</p>`;
  const title = [
    escapeHtml(gate.kind),
    `<strong>${escapeHtml(gate.name)}</strong>`,
    `<span class="note">${escapeHtml(gate.phase)}</span>`,
    stateBadge(gate),
    ...(current ? ['<span class="note">(this page)</span>'] : []),
  ];
  return `<li${current ? ' class="this"' : ''}>
<div>${title.join(' ')}</div>
${text}${outputsTable(gate)}${heartbeatNote(gate)}${progress}${decidedBy}
</li>`;
}

/** Approval gates read approved/rejected; every other state reads as stored. */
function stateBadge(gate: GateView): string {
  const labels: Partial<Record<GateState, string>> =
    gate.kind === 'approval' ? { succeeded: 'approved', failed: 'rejected' } : {};
  return `<span class="state state-${gate.state}">${escapeHtml(labels[gate.state] ?? gate.state)}</span>`;
}
