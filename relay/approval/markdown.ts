/**
 * Markdown of callback messages and approval comments, rendered for the approval page.
 * The text comes from anyone holding a callback URI, so nothing in it may become
 * markup of its own: raw HTML is escaped, images are off (no request leaves the page
 * on its own), and links keep only http(s) and mailto targets. Nor may it make the page
 * large: the caller gives each text a size in bytes, and a text whose HTML would not fit
 * is shown as plain text instead.
 */
import MarkdownIt from 'markdown-it';

/** Absolute http(s) or mailto only: no javascript:, data:, relative or protocol-relative links. */
const SAFE_LINK = /^(?:https?:\/\/|mailto:)/i;

/** The shortest HTML of one table cell (`<td></td>` and a line break). */
const MIN_CELL_BYTES = 10;

function markdownRenderer(tables: boolean): MarkdownIt {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
  md.disable(tables ? ['image'] : ['image', 'table']);
  // markdown-it hands over the normalized URL (entities decoded, control characters percent-encoded).
  md.validateLink = (url: string): boolean => SAFE_LINK.test(url.trim());
  const renderLinkOpen = md.renderer.rules.link_open;
  md.renderer.rules.link_open = (tokens, index, options, env, self) => {
    // The page URL is a capability: a followed link must not learn it, nor script the page.
    tokens[index]?.attrSet('rel', 'noopener noreferrer nofollow');
    return renderLinkOpen ? renderLinkOpen(tokens, index, options, env, self) : self.renderToken(tokens, index, options);
  };
  return md;
}

const md = markdownRenderer(true);
const mdWithoutTables = markdownRenderer(false);
const encoder = new TextEncoder();

/**
 * Safe HTML for a Markdown text: no raw HTML, no images, links only to http(s) and mailto.
 * null when that HTML would take more than `maxBytes` of UTF-8: Markdown can grow a text 26-fold
 * (nested quotes), and far more when a short reference reuses a long link title.
 */
export function renderMarkdown(text: string, maxBytes: number): string | null {
  const html = (tableMayExceed(text, maxBytes) ? mdWithoutTables : md).render(text);
  return encoder.encode(html).length <= maxBytes ? html : null;
}

/**
 * Whether a GFM table in `text` could have more cells than fit in `maxBytes`. markdown-it pads
 * every short row up to the header's width (up to 65,536 cells: 2 KB of `|` became 650 KB of
 * HTML and 100 ms of CPU), so such a text is parsed with tables off rather than formatted and
 * thrown away. A table has at most one row a line, and its delimiter row has a `|` between any
 * two columns: lines × (most `|` on a line + 1) bounds its cells, inside quotes and lists too.
 */
function tableMayExceed(text: string, maxBytes: number): boolean {
  const lines = text.split(/\r\n?|\n/);
  let pipes = 0;
  for (const line of lines) pipes = Math.max(pipes, line.split('|').length - 1);
  return lines.length * (pipes + 1) * MIN_CELL_BYTES > maxBytes;
}

const PLAIN_OPEN = '<p class="plain">';
const PLAIN_CLOSE = '</p>\n';
const ELLIPSIS = '…';
const ELLIPSIS_BYTES = encoder.encode(ELLIPSIS).length;

/**
 * `text` unformatted: escaped, in one paragraph that keeps its line breaks, at most `maxBytes`
 * of UTF-8. `whole` is false when it was cut (by code points, never inside a surrogate pair).
 */
export function renderPlainText(text: string, maxBytes: number): { html: string; whole: boolean } {
  const budget = maxBytes - PLAIN_OPEN.length - PLAIN_CLOSE.length;
  let end = fittingPrefix(text, budget);
  const whole = end === text.length;
  if (!whole) end = fittingPrefix(text, budget - ELLIPSIS_BYTES);
  const body = md.utils.escapeHtml(text.slice(0, end)) + (whole ? '' : ELLIPSIS);
  return { html: PLAIN_OPEN + body + PLAIN_CLOSE, whole };
}

/** The length of the longest prefix of `text`, whole code points, whose escaped UTF-8 fits in `budget` bytes. */
function fittingPrefix(text: string, budget: number): number {
  let bytes = 0;
  let index = 0;
  while (index < text.length) {
    const code = text.codePointAt(index) ?? 0;
    bytes += escapedBytes(code);
    if (bytes > budget) break;
    index += code > 0xffff ? 2 : 1;
  }
  return index;
}

/** UTF-8 bytes of one code point once escaped as markdown-it does (`"` `&` `<` `>`); a lone surrogate becomes U+FFFD. */
function escapedBytes(code: number): number {
  if (code === 0x22) return 6;
  if (code === 0x26) return 5;
  if (code === 0x3c || code === 0x3e) return 4;
  return code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
}
