/** The approval pages' one helper for text into HTML: every value from outside goes through it. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/** Longest URL a page links (a GitHub run URL has about 70 characters); a longer one is shown as text only. */
const MAX_LINKED_URL_CHARS = 2000;

/** An http(s) URL as a link showing itself; any other text (another scheme, too long) escaped, unlinked. */
export function linkOrText(url: string): string {
  if (url.length <= MAX_LINKED_URL_CHARS && /^https?:\/\//i.test(url)) {
    return `<a href="${escapeHtml(url)}" rel="noopener noreferrer">${escapeHtml(url)}</a>`;
  }
  return escapeHtml(url.slice(0, MAX_LINKED_URL_CHARS));
}
