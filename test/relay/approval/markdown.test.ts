/** Markdown on the approval page (relay/approval/markdown.ts): formatting kept, no markup of the sender's own. */
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../../relay/approval/markdown.ts';

describe('renderMarkdown', () => {
  it('renders ordinary Markdown', () => {
    expect(renderMarkdown('All **412** tests _passed_ in `ci`')).toBe(
      '<p>All <strong>412</strong> tests <em>passed</em> in <code>ci</code></p>\n',
    );
    expect(renderMarkdown('- a\n- b')).toContain('<li>a</li>');
  });

  it('escapes raw HTML, inline and as a block', () => {
    expect(renderMarkdown('<script>alert(1)</script>')).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n');
    expect(renderMarkdown('hi <b onclick="x()">there</b>')).not.toMatch(/<b\b/);
    expect(renderMarkdown('<div>\n<img src=x onerror=alert(1)>\n</div>')).not.toMatch(/<(div|img)\b/);
  });

  it('keeps http(s) and mailto links, with rel that leaks no referrer', () => {
    expect(renderMarkdown('[run](https://ci.example.com/run/1)')).toBe(
      '<p><a href="https://ci.example.com/run/1" rel="noopener noreferrer nofollow">run</a></p>\n',
    );
    expect(renderMarkdown('[a](http://example.com)')).toContain('href="http://example.com"');
    expect(renderMarkdown('<mailto:ops@example.com>')).toContain('href="mailto:ops@example.com"');
    expect(renderMarkdown('<https://example.com/x>')).toContain('href="https://example.com/x"');
  });

  it('turns every other link into text', () => {
    const unsafe = [
      '[x](javascript:alert(1))',
      '[x](JAVASCRIPT:alert(1))',
      '[x]( javascript:alert(1))',
      '[x](&#106;avascript:alert(1))',
      '[x](java%0ascript:alert(1))',
      '[x](data:text/html,<script>alert(1)</script>)',
      '[x](vbscript:x)',
      '[x](file:///etc/passwd)',
      '[x](//evil.example/path)',
      '[x](/relative)',
      '[x](#fragment)',
      '<javascript:alert(1)>',
      '[x][r]\n\n[r]: javascript:alert(1)',
    ];
    for (const text of unsafe) {
      const html = renderMarkdown(text);
      expect(html, text).not.toMatch(/<a\b/);
    }
  });

  it('does not link bare URLs and renders no image', () => {
    expect(renderMarkdown('see https://example.com')).not.toMatch(/<a\b/);
    const image = renderMarkdown('![pixel](https://evil.example/p.png)');
    expect(image).not.toMatch(/<img\b/);
  });
});
