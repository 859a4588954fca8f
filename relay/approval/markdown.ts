/**
 * Markdown of callback messages and approval comments, rendered for the approval page.
 * The text comes from anyone holding a callback URI, so nothing in it may become
 * markup of its own: raw HTML is escaped, images are off (no request leaves the page
 * on its own), and links keep only http(s) and mailto targets.
 */
import MarkdownIt from 'markdown-it';

/** Absolute http(s) or mailto only: no javascript:, data:, relative or protocol-relative links. */
const SAFE_LINK = /^(?:https?:\/\/|mailto:)/i;

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
md.disable('image');
// markdown-it hands over the normalized URL (entities decoded, control characters percent-encoded).
md.validateLink = (url: string): boolean => SAFE_LINK.test(url.trim());

const renderLinkOpen = md.renderer.rules.link_open;
md.renderer.rules.link_open = (tokens, index, options, env, self) => {
  // The page URL is a capability: a followed link must not learn it, nor script the page.
  tokens[index]?.attrSet('rel', 'noopener noreferrer nofollow');
  return renderLinkOpen ? renderLinkOpen(tokens, index, options, env, self) : self.renderToken(tokens, index, options);
};

/** Safe HTML for a Markdown text: no raw HTML, no images, links only to http(s) and mailto. */
export function renderMarkdown(text: string): string {
  return md.render(text);
}
