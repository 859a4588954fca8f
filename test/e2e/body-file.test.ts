/**
 * `bodyTemplate.path` stays inside the workspace (issue 10 §3): a deployment file must not send
 * `/etc/passwd`, or a runner's credentials behind a symlink, to a webhook. The built action
 * refuses such a file as it validates the deployment file, before it calls or registers anything,
 * with an annotation naming the file, line, column and field.
 */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRun } from '../../scripts/run-action.ts';
import { startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { Started } from './started.ts';

/** What the file outside the workspace holds: it must reach nobody. */
const OUTSIDE_MARKER = `runner-credential-${Date.now()}`;

let h: Harness;
let outside: string;
const started = new Started();
beforeAll(async () => {
  h = await started.add(startHarness, (harness) => harness.close());
  outside = await started.add(
    () => mkdtemp(join(tmpdir(), 'hookgate-outside-')),
    (dir) => rm(dir, { recursive: true, force: true }),
  );
  await writeFile(join(outside, 'credentials.json'), `{"token": "${OUTSIDE_MARKER}"}`);
});
afterAll(() => started.stopAll());

/** A deployment file whose one webhook reads its body from `path` (no callback: a leak would end the run at once). */
const deployFile = (path: string): string => `targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Leaky }
webhooks:
  - name: Leaky
    uriTemplate: "EXTERNAL/hooks/Leaky"
    disableCallback: true
    bodyTemplate:
      path: ${path}
`;
/** Where `path:`'s value starts in deployFile (1-based, as annotations count). */
const AT = ((): { line: number; col: number } => {
  const lines = deployFile('x').split('\n');
  const line = lines.findIndex((text) => text.includes('path: '));
  return { line: line + 1, col: (lines[line] ?? '').indexOf('path: ') + 'path: '.length + 1 };
})();

/** Nothing was called or registered: no webhook call, no gate, the relay never heard of the target. */
async function expectRefusedBeforeAnything(run: ActionRun, calls: number): Promise<void> {
  expect(run.exitCode, run.stdout).toBe(1);
  expect(h.external.webhooks).toHaveLength(calls);
  expect(run.stdout).not.toMatch(/Gate registered|Webhook Leaky called/);
  const runId = run.outputs['deployment-id'] ?? '';
  const record = await fetch(`${h.relay.url}/v1/runs/targets?run=${encodeURIComponent(runId)}&target=staging`, {
    headers: { authorization: `Bearer ${h.relay.relayToken}` },
  });
  expect(await record.json()).toMatchObject({ status: 'unknown' });
  expect(run.stdout).toContain('nothing was deployed');
}

describe('bodyTemplate.path', () => {
  it('refuses ../../etc/passwd with an annotation at its line, column and field', async () => {
    const ws = await h.workspace(deployFile('../../etc/passwd'));
    const calls = h.external.webhooks.length;
    const run = await ws.run();

    await expectRefusedBeforeAnything(run, calls);
    expect(run.stdout).toContain(
      `::error title=Invalid deployment file,file=deploy.yml,line=${AT.line},col=${AT.col}::deploy.yml:${AT.line}:${AT.col}: webhooks[0].bodyTemplate.path: `,
    );
    expect(run.stdout).toContain("'../../etc/passwd' is outside the workspace");
    expect(`${run.stdout}${run.summary}${JSON.stringify(run.outputs)}`).not.toContain('root:');
  });

  it('refuses a symlink inside the workspace to a file outside it', async () => {
    const ws = await h.workspace(deployFile('body.json'));
    await symlink(join(outside, 'credentials.json'), join(ws.dir, 'body.json'));
    const calls = h.external.webhooks.length;
    const run = await ws.run();

    await expectRefusedBeforeAnything(run, calls);
    expect(run.stdout).toContain(
      `::error title=Invalid deployment file,file=deploy.yml,line=${AT.line},col=${AT.col}::deploy.yml:${AT.line}:${AT.col}: webhooks[0].bodyTemplate.path: `,
    );
    expect(run.stdout).toContain("'body.json' is outside the workspace");
    expect(`${run.stdout}${run.stderr}${run.summary}${JSON.stringify(run.outputs)}`).not.toContain(OUTSIDE_MARKER);
  });

  it('still reads a file inside the workspace (the control)', async () => {
    const ws = await h.workspace(deployFile('templates/body.json'));
    await writeFile(join(ws.dir, 'body.json'), '{"from": "inside", "sha": "{{github.sha}}"}');
    await symlink(ws.dir, join(ws.dir, 'templates'));
    const run = await ws.run();

    expect(run.outputs.result, run.stdout).toBe('succeeded');
    expect(JSON.parse(h.external.webhooks.at(-1)?.body ?? '{}')).toMatchObject({ from: 'inside', sha: '0123456789abcdef0123456789abcdef01234567' });
  });
});
