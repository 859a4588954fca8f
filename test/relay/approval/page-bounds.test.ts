/**
 * How much one approval page shows (relay/approval/page-bounds.ts through approvalPageHtml): the
 * latest reports, messages cut by code points, notes on the gates the run object left out, and a
 * size bound that holds for the largest page the relay's limits allow.
 */
import { describe, expect, it } from 'vitest';
import { approvalPageHtml } from '../../../relay/approval/page.ts';
import { gateWindow } from '../../../relay/run/page-limits.ts';
import type { ApprovalPage } from '../../../relay/run/results.ts';
import { MAX_GATES_PER_RUN, MAX_MESSAGE_CHARS } from '../../../shared/protocol.ts';
import type { GateView, ProgressReport } from '../../../shared/protocol.ts';
import { RUN_INFO } from '../helpers.ts';

/** The reports the relay keeps per gate (relay/run/store.ts), each up to MAX_MESSAGE_CHARS. */
const KEPT_REPORTS = 50;
const IN_THE_LOG = 'the full reports are in the run’s log';
/** A lone UTF-16 surrogate: half of a code point, which a cut must never leave. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function gate(index: number, overrides: Partial<GateView> = {}): GateView {
  return {
    gateId: `g${String(index).padStart(21, '0')}`,
    runId: 'acme/potato-facts/42',
    stepKey: `prod/strategy/${index}/Check`,
    target: 'prod',
    phase: 'strategy',
    name: `Check-${index}`,
    kind: 'webhook',
    attempt: 1,
    outputs: null,
    heartbeatSeconds: null,
    lastHeardAt: null,
    state: 'pending',
    message: null,
    decidedBy: null,
    createdAt: 0,
    deadline: 86_400_000,
    decidedAt: null,
    progress: [],
    ...overrides,
  };
}

/** Reports numbered `first`…`last`, each saying its number unless `message` is given. */
function reports(first: number, last: number, message?: string): ProgressReport[] {
  return Array.from({ length: last - first + 1 }, (_, offset) => {
    const seq = first + offset;
    return { seq, at: seq * 1000, message: message ?? `report number ${seq}` };
  });
}

/** The page of `gates[current]`, as the run object sends it: `hidden` gates left out before and after. */
function render(gates: GateView[], current = 0, hidden: [number, number] = [0, 0]): string {
  const [hiddenBefore, hiddenAfter] = hidden;
  const page: ApprovalPage = { gate: gates[current] ?? gate(0), requiresRoles: [], run: RUN_INFO, gates, hiddenBefore, hiddenAfter };
  return approvalPageHtml(page, 'csrf-token');
}

function utf8Bytes(html: string): number {
  return new TextEncoder().encode(html).length;
}

/** `unit` repeated to exactly `length` UTF-16 units. */
function fill(unit: string, length = MAX_MESSAGE_CHARS): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

describe('the reports an approval page shows', () => {
  it('shows a gate’s 5 latest reports, oldest first, and says how many earlier ones the log has', () => {
    const html = render([gate(0, { progress: reports(1, 12) })]);
    for (let seq = 1; seq <= 7; seq++) expect(html).not.toContain(`report number ${seq}<`);
    const positions = [8, 9, 10, 11, 12].map((seq) => html.indexOf(`report number ${seq}<`));
    expect(positions.every((position) => position > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(html).toContain(`7 earlier reports not shown: ${IN_THE_LOG}.`);
  });

  it('counts the earlier reports the relay no longer keeps', () => {
    const html = render([gate(0, { progress: reports(51, 100) })]);
    expect(html).toContain(`95 earlier reports not shown: ${IN_THE_LOG}.`);
    expect(html).toContain('report number 100<');
  });

  it('says nothing of earlier reports when all are shown', () => {
    const html = render([gate(0, { progress: reports(1, 5) })]);
    expect(html).toContain('report number 1<');
    expect(html).not.toContain('earlier report');
  });
});

describe('the messages an approval page shows', () => {
  it('cuts a long message by code points, never inside a surrogate pair, and says so', () => {
    // 2000 code points end with the emoji: a cut by UTF-16 units would keep half of it.
    const message = `${'a'.repeat(1999)}😀${'b'.repeat(5000)}`;
    const html = render([gate(0, { message })]);
    expect(html).toContain(`${'a'.repeat(1999)}😀</p>`);
    expect(html).not.toContain('bbbbb');
    expect(html).toContain('(truncated: the whole message is in the run’s log)');
    expect(html).not.toMatch(LONE_SURROGATE);
  });

  it('shows a message that fits whole, with no note', () => {
    const html = render([gate(0, { message: `${'a'.repeat(1990)} **done**` })]);
    expect(html).toContain('<strong>done</strong>');
    expect(html).not.toContain('(truncated');
    expect(html).not.toContain('(shown as plain text');
  });

  it('shows a message as escaped plain text when its HTML would be too large, cut to fit', () => {
    // Nested quotes grow a text 25-fold; the script tags must stay text.
    const message = fill(`${'>'.repeat(40)}<script>alert(1)</script>\n\n`, 2000);
    const html = render([gate(0, { message })]);
    expect(html).not.toContain('<blockquote>');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('<p class="plain">&gt;&gt;&gt;');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('(shown as plain text: formatted, it was too large for this page)');
    expect(html).toContain('(truncated: the whole message is in the run’s log)');
  });

  it('cuts emoji plain text at a code point too', () => {
    const html = render([gate(0, { message: fill('😀🚀', 8000) })]);
    expect(html).toContain('😀🚀😀🚀');
    expect(html).not.toMatch(LONE_SURROGATE);
    expect(html).toContain('(truncated');
  });

  it('formats only so much Markdown on one page, this gate’s outcome first, then plain text', () => {
    const long = `${fill('x', 1980)} **bold**`;
    const decided = gate(0, { kind: 'approval', state: 'succeeded', message: `the **approver** said ${long}` });
    const gates = [decided, ...Array.from({ length: 3 }, (_, index) => gate(index + 1, { progress: reports(1, 5, long) }))];
    const html = render(gates);
    const outcome = html.slice(html.indexOf('<section class="box">'), html.indexOf('</section>'));
    expect(outcome).toContain('the <strong>approver</strong> said');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('**bold**');
    expect(html).toContain('(shown as plain text: this page formats only so much Markdown)');
  });
});

describe('the gates an approval page lists', () => {
  // The window the run object sends (relay/run/page-limits.ts gateWindow) of a 30-gate target, for Check-20.
  const shown = Array.from({ length: 10 }, (_, index) => gate(index + 15));

  it('lists the gates it is sent, in order, and notes how many the run object left out on each side', () => {
    const html = render(shown, 5, [15, 5]);
    const positions = shown.map((sibling) => html.indexOf(`<strong>${sibling.name}</strong>`));
    expect(positions.every((position) => position > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(html).toContain('<li class="this">\n<div>webhook <strong>Check-20</strong>');
    const earlier = html.indexOf(`<li class="note">15 earlier gates not shown: ${IN_THE_LOG}.</li>`);
    const later = html.indexOf(`<li class="note">5 later gates not shown: ${IN_THE_LOG}.</li>`);
    expect(earlier).toBeGreaterThan(0);
    expect(earlier).toBeLessThan(positions[0] ?? 0);
    expect(later).toBeGreaterThan(positions.at(-1) ?? Infinity);
  });

  it('says “gate” for one left out, and nothing for a side with none', () => {
    const html = render(shown, 9, [1, 0]);
    expect(html).toContain(`<li class="note">1 earlier gate not shown: ${IN_THE_LOG}.</li>`);
    expect(html).not.toContain('later gate');
  });

  it('notes nothing when every gate is sent', () => {
    const html = render(shown, 3);
    for (const sibling of shown) expect(html).toContain(`<strong>${sibling.name}</strong>`);
    expect(html).not.toContain('not shown');
  });
});

describe('the run link of an approval page', () => {
  it('links a run URL of up to 2000 characters, and shows none longer (the protocol bounds it only by the body)', () => {
    const link = (runUrl: string): string =>
      approvalPageHtml(
        { gate: gate(0), requiresRoles: [], run: { ...RUN_INFO, runUrl }, gates: [gate(0)], hiddenBefore: 0, hiddenAfter: 0 },
        'csrf-token',
      );
    const longest = fill(`${RUN_INFO.runUrl}?q=`, 2000);
    expect(link(longest)).toContain(`<a href="${longest}" rel="noopener noreferrer">`);
    const html = link(`${longest}x`);
    expect(html).not.toContain(longest);
    expect(html).toContain('<dt>Run</dt><dd>— <span class="note">(attempt 1)</span></dd>');
  });
});

/** Markdown that is the most HTML or CPU per character, at MAX_MESSAGE_CHARS. */
const WORST_MARKDOWN: Record<string, string> = {
  'escaped quotes': fill('"'),
  'autolinks of ampersands': fill(`<http://a${'&'.repeat(80)}>\n`),
  'mailto autolinks': fill('<mailto:&>'),
  'nested quotes': fill(`${'>'.repeat(100)}a\n\n`),
  'lists of quotes': fill(`${'- > '.repeat(25)}a\n\n`),
  'a wide table of empty rows': `${'|'.repeat(251)}\n${'-|'.repeat(250)}\n${fill('|\n')}`,
  'references to a long title': `[a]: http://x "${'中'.repeat(900)}"\n\n${fill('[a] ')}`,
  'open brackets': fill('*['),
  emoji: fill('😀'),
};

describe('the size of an approval page', () => {
  /** Every field of the page at its longest, in characters HTML escapes; its gates the window the run object sends. */
  function largestPage(message: string, gateCount: number): ApprovalPage {
    const text = (length: number): string => '"'.repeat(length);
    const gates = Array.from({ length: gateCount }, (_, index) =>
      gate(index, {
        target: text(200),
        name: text(200),
        state: 'failed',
        message,
        decidedAt: 1000,
        progress: reports(1, KEPT_REPORTS, message),
      }),
    );
    const current = Math.floor(gateCount / 2);
    gates[current] = { ...(gates[current] ?? gate(current)), kind: 'approval', decidedBy: text(100) };
    const window = gateWindow(gateCount, current);
    return {
      gate: gates[current] ?? gate(current),
      requiresRoles: Array.from({ length: 20 }, () => text(100)),
      run: {
        application: text(200),
        repository: text(200),
        sha: text(100),
        ref: text(300),
        actor: text(100),
        runUrl: fill(`https://github.com/acme/potato-facts/actions/runs/42?${fill('&', 2000)}`, 2000),
      },
      gates: gates.slice(window.offset, window.offset + window.limit),
      hiddenBefore: window.hiddenBefore,
      hiddenAfter: window.hiddenAfter,
    };
  }

  it('stays under 300 KB for 3 gates of 50 reports of 16 KiB (8 MB before the bound)', () => {
    const html = approvalPageHtml(largestPage(fill('All **412** tests passed. '), 3), '', 'notice');
    expect(utf8Bytes(html)).toBeLessThan(300_000);
  });

  for (const [name, message] of Object.entries(WORST_MARKDOWN)) {
    it(`stays under 300 KB with the most gates and reports the relay keeps, all ${name}`, () => {
      const html = approvalPageHtml(largestPage(message, MAX_GATES_PER_RUN), 'csrf-token', 'notice');
      expect(utf8Bytes(html)).toBeLessThan(300_000);
      expect(html).not.toMatch(LONE_SURROGATE);
    });
  }
});
