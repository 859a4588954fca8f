/**
 * What one approval page shows of a target's gates, so that its size and CPU stay bounded
 * whatever the senders post: a run may hold MAX_GATES_PER_RUN gates of one target, each with
 * many progress reports of MAX_MESSAGE_CHARS (3 gates × 50 × 16 KiB were 8 MB of HTML and 1.5 s
 * of Markdown in one request). The rest is in the run's log, where the action prints every
 * message whole.
 *
 * The bounds: at most MAX_GATES_SHOWN gates (the run object sends only those and counts the rest),
 * each with its message and its MAX_REPORTS_SHOWN latest reports, plus this gate's message once
 * more in its outcome: 10 × 6 + 1 = 61 messages of at most MAX_MESSAGE_HTML_BYTES (+ ~150 bytes
 * of wrapper and notes) = 197 KB, beside at most ~60 KB of names, states and run details. CPU:
 * Markdown costs up to ~2 µs a code point (runs of `[`), so a page formats at most
 * MAX_PAGE_MARKDOWN_CODE_POINTS and shows the rest as plain text, which costs next to nothing.
 * Decisions' outputs (relay/approval/gate-details.ts) add at most ~250 KB (relay/run/page-limits.ts
 * MAX_OUTPUTS_SHOWN), the run's graph at most what its 64 KiB registration body can name.
 */
import type { ProgressReport } from '../../shared/protocol.ts';
import { renderMarkdown, renderPlainText } from './markdown.ts';
import { countCodePoints, truncateCodePoints } from '../../shared/text.ts';
// The store reads no more than these (relay/run/page-limits.ts, with MAX_GATES_SHOWN): the page and its RPC stay bounded.
import { MAX_MESSAGE_CODE_POINTS, MAX_REPORTS_SHOWN } from '../run/page-limits.ts';

/** Most HTML one message may become, in UTF-8 bytes. */
const MAX_MESSAGE_HTML_BYTES = 3072;
/** Most Markdown one page formats, in code points: about 30 ms of CPU at worst. */
const MAX_PAGE_MARKDOWN_CODE_POINTS = 8000;

const IN_THE_LOG = 'the full reports are in the run’s log';

/** A list item saying how many gates the page leaves out, or '' for none. */
export function hiddenGatesNote(count: number, where: 'earlier' | 'later'): string {
  if (count === 0) return '';
  return `<li class="note">${count} ${where} ${count === 1 ? 'gate' : 'gates'} not shown: ${IN_THE_LOG}.</li>`;
}

/** A gate's latest reports, oldest first, and how many earlier ones are left out (the relay's dropped ones too). */
export function shownReports(progress: ProgressReport[]): { shown: ProgressReport[]; earlier: number } {
  const shown = progress.slice(-MAX_REPORTS_SHOWN);
  return { shown, earlier: (shown[0]?.seq ?? 1) - 1 };
}

/** A line saying how many earlier reports the page leaves out, or '' for none. */
export function earlierReportsNote(earlier: number): string {
  if (earlier === 0) return '';
  return `<p class="note">${earlier} earlier ${earlier === 1 ? 'report' : 'reports'} not shown: ${IN_THE_LOG}.</p>`;
}

const NOTES = {
  truncated: '<p class="note">(truncated: the whole message is in the run’s log)</p>',
  tooLarge: '<p class="note">(shown as plain text: formatted, it was too large for this page)</p>',
  budgetSpent: '<p class="note">(shown as plain text: this page formats only so much Markdown)</p>',
};

/** One page's message sink: a message's HTML, rendered within the page's bounds. */
export type MessageRenderer = (text: string) => string;

/**
 * Renders one page's messages, in the order asked: each cut to MAX_MESSAGE_CODE_POINTS, as
 * Markdown while the page's budget lasts and its HTML fits MAX_MESSAGE_HTML_BYTES, else as plain
 * text; a note says which and whether it was cut.
 */
export function messageRenderer(): MessageRenderer {
  let budget = MAX_PAGE_MARKDOWN_CODE_POINTS;
  return (text) => {
    const shown = truncateCodePoints(text, MAX_MESSAGE_CODE_POINTS);
    const codePoints = countCodePoints(shown);
    const affordable = codePoints <= budget;
    if (affordable) budget -= codePoints;
    const formatted = affordable ? renderMarkdown(shown, MAX_MESSAGE_HTML_BYTES) : null;
    if (formatted !== null) return messageBox(formatted, shown === text);
    const plain = renderPlainText(shown, MAX_MESSAGE_HTML_BYTES);
    return messageBox(plain.html, shown === text && plain.whole, affordable ? NOTES.tooLarge : NOTES.budgetSpent);
  };
}

function messageBox(html: string, whole: boolean, note = ''): string {
  return `<div class="md">${html}${whole ? '' : NOTES.truncated}${note}</div>`;
}
