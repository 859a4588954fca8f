/** Markdown on the approval page (relay/approval/markdown.ts): formatting kept, no markup of the sender's own. */
import { describe, expect, it } from 'vitest';
import { renderMarkdown as renderWithin, renderPlainText } from '../../../relay/approval/markdown.ts';

/** A budget no text below reaches. */
const AMPLE = 1 << 20;

function renderMarkdown(text: string): string {
  const html = renderWithin(text, AMPLE);
  if (html === null) throw new Error(`no HTML within ${AMPLE} bytes for ${text}`);
  return html;
}

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

describe('renderMarkdown within a size', () => {
  it('gives no HTML when its UTF-8 would exceed the size', () => {
    expect(renderWithin('**bold**', 29)).toBe('<p><strong>bold</strong></p>\n');
    expect(renderWithin('**bold**', 28)).toBeNull();
    // Nested quotes grow 100 characters to 2,600.
    expect(renderWithin(`${'>'.repeat(100)}a`, 2000)).toBeNull();
    expect(renderWithin('中', 11)).toBe('<p>中</p>\n');
    expect(renderWithin('中', 10)).toBeNull();
  });

  it('renders a table that fits', () => {
    const html = renderWithin('| check | state |\n|---|---|\n| unit | green |', 3000);
    expect(html).toContain('<th>check</th>');
    expect(html).toContain('<td>green</td>');
  });

  it('does not parse as a table what could pad out to more cells than fit', () => {
    // markdown-it pads each `|` row to 250 cells: 3,000 rows would be 650 KB of HTML.
    const text = `${'|'.repeat(251)}\n${'-|'.repeat(250)}\n${'|\n'.repeat(3000)}`;
    const html = renderWithin(text, 20_000);
    expect(html).not.toBeNull();
    expect(html).not.toContain('<table');
    expect(html).toContain('|||');
  });
});

describe('renderPlainText', () => {
  it('escapes the text whole when it fits', () => {
    expect(renderPlainText('<b>"x" & y</b>\n[z](javascript:1)', 200)).toEqual({
      html: '<p class="plain">&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;\n[z](javascript:1)</p>\n',
      whole: true,
    });
  });

  it('cuts by code points to fit the size, counting escapes and UTF-8, with an ellipsis', () => {
    const frame = '<p class="plain"></p>\n'.length;
    expect(renderPlainText('&&&&', frame + 19)).toEqual({ html: '<p class="plain">&amp;&amp;&amp;…</p>\n', whole: false });
    // 4 bytes each: 3 emoji and the ellipsis (3 bytes) fit in 15, never half an emoji.
    expect(renderPlainText('😀😀😀😀😀', frame + 15)).toEqual({ html: '<p class="plain">😀😀😀…</p>\n', whole: false });
    expect(renderPlainText('😀😀😀😀😀', frame + 20)).toEqual({ html: '<p class="plain">😀😀😀😀😀</p>\n', whole: true });
  });
});
