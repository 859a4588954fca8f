/**
 * Text from outside never becomes a workflow command (issue 10 §3): callback messages, progress
 * reports and a webhook's error body full of `::add-mask::`, `::stop-commands::`, `::error file=…::`
 * and the legacy `##[…]` reach the built action through the real relay. The runner reads stdout
 * line by line (split at \n, \r and \r\n) and trims whitespace (.NET's, U+0085 included) before
 * looking for `::`; no injected line may survive that as a command, yet each must stay readable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET, reportOf, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { callbackUriIn, postCallback, startScriptedSystem } from './scripted-system.ts';
import type { ScriptedSystem } from './scripted-system.ts';
import { Started } from './started.ts';

const ZWSP = '\u200B';
/** One hostile line per trick the runner falls for; the first is plain text. */
const HOSTILE_LINES = [
  'Scan finished',
  '::add-mask::visible-word',
  '  ::error file=x::pwned',
  '::stop-commands::abc',
  'text ##[error]legacy',
  '\t::warning::tabbed',
  '\u0085::add-mask::nel-word',
  '<img src=x onerror=alert(1)> | <script>alert(2)</script>',
];
const DECISION = `${HOSTILE_LINES.join('\n')}\rbefore-cr\r::add-mask::cr-word`;
const PROGRESS = ['Scanning\n::add-mask::progress-word', 'Halfway\n  ::stop-commands::progress-token\n##[warning]progress-legacy'];
const ERROR_BODY = 'upstream down\n::add-mask::body-word\n ::error file=y::body-pwned ##[error]body-legacy';

/** What, after the runner's trim, would start an injected command (or a legacy one anywhere). */
const INJECTED = [
  /^[\s\u0085]*::add-mask::(visible-word|nel-word|cr-word|progress-word|body-word)/,
  /^[\s\u0085]*::stop-commands::/,
  /^[\s\u0085]*::error file=[xy]::/,
  /^[\s\u0085]*::warning::tabbed/,
];
const LEGACY = ['##[error]legacy', '##[warning]progress-legacy', '##[error]body-legacy'];

let h: Harness;
let system: ScriptedSystem;
const started = new Started();
beforeAll(async () => {
  h = await started.add(startHarness, (harness) => harness.close());
  system = await started.add(
    () =>
      startScriptedSystem({
        '/inject': (call) => ({
          status: 202,
          body: '{"accepted":true}',
          then: async () => {
            const uri = callbackUriIn(call);
            for (const message of PROGRESS) await postCallback(uri, { progress: true, mdMessage: message });
            await postCallback(uri, { success: true, mdMessage: DECISION });
          },
        }),
        '/broken': () => ({ status: 500, body: ERROR_BODY }),
      }),
    (s) => s.close(),
  );
});
afterAll(() => started.stopAll());

/** Decides an approval as its page's form does: the page's anti-forgery token and cookie, then the POST. */
async function approveThroughPage(url: string, approver: string, comment: string): Promise<number> {
  const page = await fetch(url);
  const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]*)"/.exec(await page.text())?.[1] ?? '';
  const form = new URLSearchParams({ csrf, approver, comment, decision: 'approve' });
  const answer = await fetch(url, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  return answer.status;
}

/** stdout's lines as the runner splits them. */
const runnerLines = (stdout: string): string[] => stdout.split(/\r\n|\r|\n/);

describe('text from outside in the log', () => {
  it('never becomes a workflow command, yet reads the same: callback, progress and error body', async () => {
    const ws = await h.workspace(`
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Inject }
  broken:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Broken }
webhooks:
  - name: Inject
    uriTemplate: "${system.url}/inject"
    bodyTemplate:
      inline: '{"callbackUri": "{{armory.callbackUri}}"}'
  - name: Broken
    uriTemplate: "${system.url}/broken"
    retryCount: 0
    disableCallback: true
`);
    const run = await ws.run();

    // The run did what it should: staging through on the hostile decision, broken failed on the hostile body.
    const report = reportOf(run);
    expect(Object.fromEntries(report.targets.map((t) => [t.target, t.outcome])), run.stdout).toEqual({ staging: 'succeeded', broken: 'failed' });
    const lines = runnerLines(run.stdout);
    const injected = lines.filter((line) => INJECTED.some((pattern) => pattern.test(line)));
    expect(injected, run.stdout).toEqual([]);
    // The job's failure annotation (core.setFailed) quotes the failing webhook's body too.
    const shown = lines.join('\n');
    for (const legacy of LEGACY) expect(shown).not.toContain(legacy);
    // Every command the runner sees is one of the action's own: masks of the given secrets, and annotations.
    const commands = lines.filter((line) => /^[\s\u0085]*::/.test(line));
    const own = (line: string): boolean =>
      [`::add-mask::${SECRET}`, `::add-mask::${h.relay.relayToken}`].includes(line) || /^::(error|warning|notice|debug|group|endgroup)( [^:]*)?::/.test(line);
    expect(commands.filter((line) => !own(line))).toEqual([]);

    // Readable: a zero-width space after the first colon or hash, the rest as sent.
    for (const text of ['add-mask::visible-word', 'error file=x::pwned', 'stop-commands::abc', 'add-mask::nel-word', 'add-mask::cr-word']) {
      expect(run.stdout).toContain(`:${ZWSP}:${text}`);
    }
    expect(run.stdout).toContain(`text #${ZWSP}#[error]legacy`);
    expect(run.stdout).toContain(`Progress from Inject: Scanning\n:${ZWSP}:add-mask::progress-word`);
    expect(run.stdout).toContain(`  :${ZWSP}:stop-commands::progress-token`);
    expect(run.stdout).toContain(`:${ZWSP}:add-mask::body-word`);
    expect(run.stdout).toContain(`#${ZWSP}#[error]body-legacy`);
    expect(run.stdout).toContain('<img src=x onerror=alert(1)>');
  });

  it('never takes an approver’s name or comment from the approval page for a command', async () => {
    const ws = await h.workspace(`
targets:
  prod:
    constraints:
      beforeDeployment:
        - pause: { untilApproved: true }
`);
    const action = await ws.start();
    const url = await action.waitForOutput(/https?:\/\/\S+\/approve\/[A-Za-z0-9_.-]+/);
    expect(await approveThroughPage(url, 'Eve\n::add-mask::approver-word', 'Looks fine\n::stop-commands::comment-token\n ::add-mask::comment-word ##[error]comment-legacy')).toBe(303);
    const run = await action.done;

    expect(run.outputs.result, run.stdout).toBe('succeeded');
    const lines = runnerLines(run.stdout);
    expect(lines.filter((line) => /^[\s\u0085]*::(add-mask::(approver|comment)-word|stop-commands::)/.test(line)), run.stdout).toEqual([]);
    expect(run.stdout).not.toContain('##[error]comment-legacy');
    expect(run.stdout).toContain(`:${ZWSP}:stop-commands::comment-token`);
    expect(run.stdout).toContain(`approved by Eve\n:${ZWSP}:add-mask::approver-word: Looks fine`);
    expect(run.stdout).toContain(`#${ZWSP}#[error]comment-legacy`);
  });

  it('keeps the summary free of raw HTML and the report output intact', async () => {
    const ws = await h.workspace(`
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Inject }
webhooks:
  - name: Inject
    uriTemplate: "${system.url}/inject"
    bodyTemplate:
      inline: '{"callbackUri": "{{armory.callbackUri}}"}'
`);
    const run = await ws.run();
    expect(run.outputs.result, run.stdout).toBe('succeeded');

    // The summary: the message stays text in its table cell.
    expect(run.summary).not.toMatch(/<img|<script/);
    expect(run.summary).toContain('&lt;img src=x onerror=alert(1)&gt; \\| &lt;script&gt;alert(2)&lt;/script&gt;');
    expect(run.summary).toContain('add-mask::visible-word');
    expect(run.summary.split(/\r\n|\r|\n/).filter((line) => /^[\s\u0085]*::/.test(line))).toEqual([]);
    // The report: no legacy command in the raw output text, and parsing gives back every message as sent.
    expect(run.outputs.report).not.toContain('##[');
    const step = reportOf(run).targets[0]?.steps[0];
    expect(step?.message).toBe(DECISION);
    expect(step?.progress).toEqual(PROGRESS);
  });
});
