/**
 * Redaction of echoed spellings (issue 10 §3): a web service that fails often echoes the request
 * back, and not as sent. Each webhook here answers 500 with the secret it got (from the `secrets`
 * input) in one spelling — lower-case percent-encoded, JSON with `\/` or `\u00xx` escapes, HTML
 * character references, base64 alone or inside a Basic credential — and none of those spellings,
 * nor the secret, may reach the log, the job summary or the outputs. The rest of each body does
 * (the positive control: the scan looks where the echoes go).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRun } from '../../scripts/run-action.ts';
import { SECRET, reportOf, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { startScriptedSystem } from './scripted-system.ts';
import type { ScriptedSystem } from './scripted-system.ts';
import { Started } from './started.ts';

/** Characters a URL, a JSON text and HTML each spell their own way. */
const KEY = `hg/${randomBytes(8).toString('hex')}+Key=@9:z`;
const hexEscape = (c: string): string => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
const special = /[^A-Za-z0-9]/g;

/** Name → how the failing service spells the secret in its answer. */
const ECHOES: Record<string, string> = {
  'percent-lower': `{"error":"forbidden","url":"/v1/deploy?key=${KEY.replace(special, hexEscape)}"}`,
  'json-slash': `{"error":"forbidden","got":${JSON.stringify(KEY).replace(/\//g, '\\/')}}`,
  'json-unicode': `{"error":"forbidden","got":"${KEY.replace(special, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"}`,
  'html-hex': `<p>forbidden: ${KEY.replace(special, (c) => `&#x${c.charCodeAt(0).toString(16)};`)}</p>`,
  'html-decimal': `<p>forbidden: ${KEY.replace(special, (c) => `&#${c.charCodeAt(0)};`)}</p>`,
  base64: `{"error":"forbidden","token":"${Buffer.from(KEY).toString('base64')}"}`,
  'basic-auth': `{"error":"forbidden","authorization":"Basic ${Buffer.from(`deploy-bot:${KEY}`).toString('base64')}"}`,
  // Some encoders escape every character, letters and digits too.
  'percent-all': `{"error":"forbidden","url":"/v1/deploy?key=${KEY.replace(/./g, hexEscape)}"}`,
  'json-unicode-all': `{"error":"forbidden","got":"${KEY.replace(/./g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"}`,
  'html-decimal-all': `<p>forbidden: ${KEY.replace(/./g, (c) => `&#${c.charCodeAt(0)};`)}</p>`,
};

/** Every text above that spells the secret: the echoes' spellings themselves, and a few more. */
function spellings(): string[] {
  const html = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const forms = [
    KEY,
    encodeURIComponent(KEY),
    KEY.replace(special, hexEscape),
    JSON.stringify(KEY).slice(1, -1).replace(/\//g, '\\/'),
    KEY.replace(special, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    KEY.replace(special, (c) => `&#x${c.charCodeAt(0).toString(16)};`),
    KEY.replace(special, (c) => `&#${c.charCodeAt(0)};`),
    Buffer.from(KEY).toString('base64'),
    Buffer.from(`deploy-bot:${KEY}`).toString('base64'),
    KEY.replace(/./g, hexEscape),
    KEY.replace(/./g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    KEY.replace(/./g, (c) => `&#${c.charCodeAt(0)};`),
  ];
  // The summary escapes `&` again; JSON outputs escape `\` again.
  return [...new Set(forms.flatMap((form) => [form, html(form), JSON.stringify(form).slice(1, -1)]))];
}

let h: Harness;
let system: ScriptedSystem;
const started = new Started();
beforeAll(async () => {
  h = await started.add(startHarness, (harness) => harness.close());
  const routes = Object.fromEntries(
    Object.entries(ECHOES).map(([name, body]) => [`/echo/${name}`, () => ({ status: 500, body: `echo-${name}: ${body}`, contentType: 'application/json' })]),
  );
  system = await started.add(() => startScriptedSystem(routes), (s) => s.close());
});
afterAll(() => started.stopAll());

function deployFile(): string {
  const names = Object.keys(ECHOES);
  const targets = names.map((name) => `  ${name}:\n    constraints:\n      beforeDeployment:\n        - runWebhook: { name: Echo-${name} }`);
  const webhooks = names.map(
    (name) => `  - name: Echo-${name}
    uriTemplate: "${system.url}/echo/${name}"
    headers:
      - { key: Authorization, value: "Bearer {{secrets.echo_key}}" }
    retryCount: 0
    disableCallback: true`,
  );
  return `targets:\n${targets.join('\n')}\nwebhooks:\n${webhooks.join('\n')}\n`;
}

/** Where a leaked secret would show: the shown log (the runner consumes `::add-mask::` lines), stderr, the summary, each output. */
function places(run: ActionRun): Map<string, string> {
  const shown = run.stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  const found = new Map([
    ['stdout', shown],
    ['stderr', run.stderr],
    ['GITHUB_STEP_SUMMARY', run.summary],
  ]);
  for (const [name, value] of Object.entries(run.outputs)) found.set(`output ${name}`, value);
  // Parsed, the report's messages are the texts as the action had them, escapes undone.
  found.set('the report’s messages', JSON.stringify(reportOf(run).targets.flatMap((t) => [t.message, ...t.steps.map((s) => s.message)])));
  return found;
}

describe('redaction of echoed spellings', () => {
  it('keeps a secret out of the log, summary and outputs however a failing service spells it back', async () => {
    const ws = await h.workspace(deployFile());
    const run = await ws.run({ secrets: JSON.stringify({ api_token: SECRET, echo_key: KEY }) });

    // Every webhook was called with the secret and failed on its echo.
    expect(system.calls.map((c) => c.headers.authorization)).toEqual(Object.keys(ECHOES).map(() => `Bearer ${KEY}`));
    expect(run.outputs.result, run.stdout).toBe('failed');
    expect(reportOf(run).targets.every((t) => t.outcome === 'failed')).toBe(true);
    // The positive control: each echo reached the log, the summary and the report, masked.
    for (const name of Object.keys(ECHOES)) {
      expect(run.stdout).toMatch(new RegExp(`HTTP 500: echo-${name}: .*\\*\\*\\*`));
      expect(run.summary).toContain(`echo-${name}`);
      expect(run.outputs.report).toContain(`echo-${name}`);
    }

    const leaks: string[] = [];
    for (const [place, text] of places(run)) {
      for (const spelling of spellings()) if (text.includes(spelling)) leaks.push(`${spelling} in ${place}`);
    }
    expect(leaks).toEqual([]);
  });
});
