/**
 * Secrets never leak (SPEC §2: "secrets.<name> … values masked in every log"), end to end: the
 * built action runs against the real local relay with an INPUT_SECRETS map whose values go into
 * webhooks' URIs, headers and bodies. The external system gets them — and, for three webhooks,
 * answers 500 echoing the request back (URL, headers, body), as real ones do. Then every secret,
 * raw and in each encoding a text may carry it in (URL, JSON, HTML), is looked for in stdout,
 * stderr, the job summary, GITHUB_OUTPUT, GITHUB_STATE, the approval page of a pause beside a
 * failing webhook (it shows its sibling gates' messages to whoever has the link), and every file
 * of the relay's state directory read as bytes after the relay stopped (SQLite's main file and WAL alike).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalRelay } from '../../scripts/local-relay.ts';
import type { LocalRelay } from '../../scripts/local-relay.ts';
import { parseFileCommand, runAction } from '../../scripts/run-action.ts';

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** Distinctive values: 32 hex characters, a short one, and one full of JSON, YAML, URL and HTML specials. */
const SECRETS = {
  api_key: hex(16),
  short_pin: `p${hex(3)}`,
  special: `Q"x\\y:{z}'&<w>|%2F *${hex(4)}`,
};
const RELAY_TOKEN = `relay-${hex(16)}`;
/** Not a secret: the callback's message, which must reach the relay's storage and the log (the scans' positive control). */
const MARKER = `callback-marker-${hex(8)}`;

interface Received {
  path: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The external system: `/ok` accepts and calls back; `/fail-url`, `/fail-json` and `/fail-raw`
 * answer 500 with the request echoed — its URL as sent, its headers as JSON, or everything raw.
 */
async function startEchoSystem(): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = req.url ?? '/';
      const path = url.split('?')[0] ?? url;
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      received.push({ path, url, headers, body });
      if (path === '/ok') {
        res.writeHead(202).end('{"accepted":true}');
        const callbackUri = /"callbackUri":\s*"([^"]+)"/.exec(body)?.[1];
        if (callbackUri) {
          void fetch(callbackUri, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ success: true, mdMessage: MARKER }) });
        }
      } else if (path === '/fail-url') {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`upstream failed for ${req.method} ${url}`);
      } else if (path === '/fail-json') {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'boom', authorization: headers.authorization, apiKey: headers['x-api-key'], url, body }));
      } else {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`echo: ${headers['x-api-key']} ${headers.authorization} ${body}`);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${address.port}`, received, server };
}

function deployFile(external: string): string {
  const headers = `
    headers:
      - { key: Authorization, value: "Bearer {{secrets.api_key}}" }
      - { key: X-Api-Key, value: "{{secrets.special}}" }
      - { key: X-Pin, value: "{{secrets.short_pin}}" }`;
  const body = `
    bodyTemplate:
      inline: '{"callbackUri": "{{armory.callbackUri}}", "key": "{{secrets.api_key}}", "pin": "{{secrets.short_pin}}", "special": "{{secrets.special}}"}'`;
  const query = 'key={{secrets.api_key}}&pin={{secrets.short_pin}}&special={{secrets.special}}';
  return `
targets:
  good:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Good }
  fail-url:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Fail-Url }
  fail-json:
    constraints:
      beforeDeployment:
        - pause: { untilApproved: true }
        - runWebhook: { name: Fail-Json }
  fail-raw:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Fail-Raw }
webhooks:
  - name: Good
    uriTemplate: "${external}/ok?${query}"${headers}${body}
  - name: Fail-Url
    uriTemplate: "${external}/fail-url?${query}"${headers}${body}
    retryCount: 1
  - name: Fail-Json
    uriTemplate: "${external}/fail-json?${query}"${headers}${body}
  - name: Fail-Raw
    uriTemplate: "${external}/fail-raw?${query}"${headers}${body}
    disableCallback: true
`;
}

/** Every spelling of `value` a log, a URL, a JSON text or the Markdown summary may carry it in. */
function spellings(value: string): Map<string, string> {
  const json = JSON.stringify(value).slice(1, -1);
  const base: [string, string][] = [
    ['raw', value],
    ['encodeURIComponent', encodeURIComponent(value)],
    ['URL query (as fetch sends it)', new URL(`http://x/?q=${value}`).search.slice(3)],
    ['form-encoded', new URLSearchParams({ q: value }).toString().slice(2)],
    ['JSON-escaped', json],
    ['JSON-escaped twice', JSON.stringify(json).slice(1, -1)],
  ];
  const markup = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const forms: [string, string][] = [...base];
  for (const [name, text] of base) {
    forms.push([`${name}, HTML-escaped`, markup(text)]);
    forms.push([`${name}, HTML-escaped with double quotes`, markup(text).replace(/"/g, '&quot;')]);
    forms.push([`${name}, HTML-escaped with quotes`, markup(text).replace(/"/g, '&quot;').replace(/'/g, '&#39;')]);
    forms.push([`${name}, HTML-escaped with quotes (hex)`, markup(text).replace(/"/g, '&quot;').replace(/'/g, '&#x27;')]);
    // The job summary's table cells: HTML-escaped, pipes escaped for Markdown.
    forms.push([`${name}, summary-escaped`, markup(text).replace(/\|/g, '\\|')]);
  }
  forms.push(['summary-escaped, JSON-escaped', JSON.stringify(markup(value).replace(/\|/g, '\\|')).slice(1, -1)]);
  const out = new Map<string, string>();
  for (const [name, form] of forms) if (![...out.values()].includes(form)) out.set(name, form);
  return out;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : Promise.resolve(e.isFile() ? [join(dir, e.name)] : []))),
  );
  return nested.flat();
}

/**
 * Where in the relay's tables each leaked text sits: `table.column` and the row's first column.
 * Reads a copy of each Durable Object database with its WAL, so the state directory stays as the relay left it.
 */
async function tablesHolding(stateDir: string, texts: ReadonlyMap<string, string>): Promise<string[]> {
  const found: string[] = [];
  const copies = await mkdtemp(join(tmpdir(), 'hookgate-secrets-db-'));
  try {
    const databases = (await filesUnder(join(stateDir, 'v3', 'do'))).filter((f) => f.endsWith('.sqlite') && !f.endsWith('metadata.sqlite'));
    for (const db of databases) {
      const copy = join(copies, basename(db));
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(db + suffix)) await copyFile(db + suffix, copy + suffix);
      const sqlite = new DatabaseSync(copy, { readOnly: true });
      try {
        const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
        for (const { name } of tables) {
          const select = sqlite.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`);
          // Some integers in workerd's own tables are past 2^53 (read as BigInt, not refused); only strings are searched.
          select.setReadBigInts(true);
          for (const row of select.all() as Record<string, unknown>[]) {
            const id = String(row.name ?? row.target ?? Object.values(row)[0]);
            for (const [column, value] of Object.entries(row)) {
              if (typeof value !== 'string') continue;
              for (const [label, text] of texts) if (value.includes(text)) found.push(`${label} → table ${name}.${column} (row ${id})`);
            }
          }
        }
      } finally {
        sqlite.close();
      }
    }
  } finally {
    await rm(copies, { recursive: true, force: true });
  }
  return found;
}

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

describe('secrets', () => {
  it('never leave the action or reach the relay: not in logs, summary, outputs, state, nor the relay’s storage', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'hookgate-secrets-relay-'));
    const workspace = await mkdtemp(join(tmpdir(), 'hookgate-secrets-ws-'));
    const runner = await mkdtemp(join(tmpdir(), 'hookgate-secrets-runner-'));
    cleanup.push(() => rm(stateDir, { recursive: true, force: true }), () => rm(workspace, { recursive: true, force: true }), () => rm(runner, { recursive: true, force: true }));
    const external = await startEchoSystem();
    cleanup.push(async () => {
      external.server.closeAllConnections();
      external.server.close();
    });
    let relay: LocalRelay | null = await startLocalRelay({ stateDir, relayToken: RELAY_TOKEN });
    cleanup.push(async () => relay?.stop());

    await writeFile(join(workspace, 'deploy.yml'), deployFile(external.url));
    // The runner's files, ours: run-action reads and deletes its own, and the raw bytes are what is scanned here.
    const files = { GITHUB_OUTPUT: join(runner, 'output'), GITHUB_STEP_SUMMARY: join(runner, 'summary'), GITHUB_STATE: join(runner, 'state') };
    await Promise.all(Object.values(files).map((f) => writeFile(f, '')));
    const run = await runAction({
      workspace,
      inputs: { 'relay-url': relay.url, 'relay-token': RELAY_TOKEN, secrets: JSON.stringify(SECRETS) },
      env: files,
    });
    // The approval page of fail-json's pause shows every gate of the target with its message: whoever has the link reads it.
    const approvalUrl = /https?:\/\/[^\s"']+\/approve\/[A-Za-z0-9_.-]+/.exec(run.stdout)?.[0];
    expect(approvalUrl, run.stdout).toBeDefined();
    const approvalPage = await (await fetch(approvalUrl ?? '')).text();
    await relay.stop();
    relay = null;

    const outputs = parseFileCommand(await readFile(files.GITHUB_OUTPUT, 'utf8'));
    const places = new Map<string, Buffer>([
      // The runner consumes `::add-mask::` lines; they are never shown.
      ['stdout', Buffer.from(run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n'))],
      ['stderr', Buffer.from(run.stderr)],
      ['GITHUB_STEP_SUMMARY', await readFile(files.GITHUB_STEP_SUMMARY)],
      ['GITHUB_OUTPUT', await readFile(files.GITHUB_OUTPUT)],
      ['GITHUB_STATE', await readFile(files.GITHUB_STATE)],
      ['the approval page', Buffer.from(approvalPage)],
    ]);
    const stored = await filesUnder(stateDir);
    for (const file of stored) places.set(`relay state ${relative(stateDir, file)}`, await readFile(file));

    // The run did what it should: one target through, three failed on their webhooks.
    expect(outputs.result, run.stdout).toBe('failed');
    const report = JSON.parse(outputs.report ?? '{}') as { targets: { target: string; outcome: string }[] };
    expect(Object.fromEntries(report.targets.map((t) => [t.target, t.outcome]))).toEqual({ good: 'succeeded', 'fail-url': 'failed', 'fail-json': 'failed', 'fail-raw': 'failed' });
    // The external system got every secret, else this test would prove nothing.
    const seen = external.received.map((r) => `${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`).join('\n');
    for (const [name, value] of Object.entries(SECRETS)) {
      expect(external.received.some((r) => r.body.includes(value)), `the external system never got ${name} in a body`).toBe(true);
      expect(Object.values(external.received[0]?.headers ?? {}).some((h) => h.includes(value)), `no header carried ${name}`).toBe(true);
    }
    expect(seen).toContain(`key=${SECRETS.api_key}`);
    expect(external.received.filter((r) => r.path === '/fail-url')).toHaveLength(2);
    // The scans see what they scan: the callback's message is in the log and in the relay's storage.
    expect(run.stdout).toContain(MARKER);
    expect(stored.some((f) => /\.sqlite$/.test(f)), `no SQLite file under the state directory: ${stored.join(', ')}`).toBe(true);
    expect([...places].some(([place, bytes]) => place.startsWith('relay state') && bytes.includes(MARKER)), 'the marker is in no relay file').toBe(true);

    const leaks: string[] = [];
    for (const [name, value] of Object.entries(SECRETS)) {
      for (const [form, text] of spellings(value)) {
        for (const [place, bytes] of places) {
          const at = bytes.indexOf(text);
          if (at >= 0) leaks.push(`secret ${name} (${form}) in ${place}: …${bytes.subarray(Math.max(0, at - 80), at + text.length + 40).toString('utf8').replace(/\n/g, '⏎')}…`);
        }
      }
    }
    for (const place of ['stdout', 'stderr', 'GITHUB_STEP_SUMMARY', 'GITHUB_OUTPUT', 'GITHUB_STATE']) {
      if (places.get(place)?.includes(RELAY_TOKEN)) leaks.push(`the relay token in ${place}`);
    }
    const texts = new Map<string, string>();
    for (const [name, value] of Object.entries(SECRETS)) for (const [form, text] of spellings(value)) texts.set(`secret ${name} (${form})`, text);
    texts.set('the relay token', RELAY_TOKEN);
    const rows = await tablesHolding(stateDir, texts);
    console.log(
      [
        `secrets scan: ${Object.keys(SECRETS).length} secrets × ${Object.values(SECRETS).reduce((n, v) => n + spellings(v).size, 0)} spellings in ${places.size} places (${stored.length} of them files of the relay's state)`,
        `  the external system got ${external.received.length} requests; leaks: ${leaks.length}`,
        ...leaks.map((l) => `  ${l}`),
        ...(rows.length > 0 ? ['  in the relay’s tables:', ...rows.map((r) => `    ${r}`)] : []),
      ].join('\n'),
    );
    expect(existsSync(stateDir)).toBe(true);
    expect(leaks).toEqual([]);
  });
});
