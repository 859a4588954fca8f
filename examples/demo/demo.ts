/**
 * `npm start`: the whole loop on this machine. The real relay (wrangler dev on
 * workerd), a simulated external system, and the built action run on
 * examples/deploy.yml as the GitHub runner runs it. Staging passes every gate;
 * prod's health check fails and prod is rolled back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExternalSystem } from '../../scripts/external-system.ts';
import { ROOT, startLocalRelay } from '../../scripts/local-relay.ts';
import { startAction } from '../../scripts/run-action.ts';

const started = Date.now();
const seconds = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const dim = (text: string): string => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[22m` : text);
const bold = (text: string): string => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[22m` : text);

/** Workflow commands as a person reads them in the Actions log. */
function readable(line: string): string | null {
  const decoded = line.replace(/%0A/g, ' ').replace(/%0D/g, '').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
  if (decoded.startsWith('::add-mask::') || decoded === '::endgroup::') return null;
  const group = /^::group::(.*)$/.exec(decoded);
  if (group) return `  ${group[1]}`;
  const annotation = /^::(error|warning|notice)[^:]*::(.*)$/.exec(decoded);
  if (annotation) return `  ${annotation[1]}: ${annotation[2]}`;
  return decoded.startsWith('[') ? `  ${decoded}` : `    ${dim(decoded)}`;
}

console.log(bold('hookgate demo: a deployment that waits on systems outside GitHub\n'));
const stateDir = await mkdtemp(join(tmpdir(), 'hookgate-demo-'));
const relay = await startLocalRelay({ stateDir });
console.log(`1. Relay (Cloudflare Worker + Durable Object on workerd) ready at ${relay.url} after ${seconds()}`);
const external = await startExternalSystem();
external.onEvent = (line) => console.log(`  ${dim('⇄')} ${line}`);
console.log(`2. Demo external system (schema service, test farm, health checks) on ${external.url}`);
console.log('3. The action, as the runner runs it: node dist/index.js with examples/deploy.yml\n');

let exitCode: number;
try {
  const action = await startAction({
    workspace: join(ROOT, 'examples'),
    inputs: {
      config: 'deploy.yml',
      'relay-url': relay.url,
      'relay-token': relay.relayToken,
      secrets: JSON.stringify({ ci_token: 'demo-ci-token-not-a-real-secret' }),
      context: JSON.stringify({ externalUrl: external.url }),
    },
    onLine: (line) => {
      const text = readable(line);
      if (text !== null) console.log(text);
    },
  });
  const run = await action.done;
  const report = JSON.parse(run.outputs.report ?? '{"targets": []}') as { targets: { target: string; outcome: string }[] };
  const outcomes = Object.fromEntries(report.targets.map((t) => [t.target, t.outcome]));
  console.log(`\n4. Result: ${bold(run.outputs.result ?? 'none')} — ${report.targets.map((t) => `${t.target} ${t.outcome}`).join(', ')}`);
  console.log(`   The job summary (GITHUB_STEP_SUMMARY) has ${run.summary.split('\n').filter((l) => l.startsWith('| ')).length - 4} step rows; the step exits ${run.exitCode} as a rolled-back deployment should.`);
  // The demo passes when the story went as written: staging deployed, prod rolled back.
  exitCode = outcomes.staging === 'succeeded' && outcomes.prod === 'rolled-back' && run.exitCode === 1 ? 0 : 1;
  if (exitCode !== 0) console.error(`The demo did not go as planned:\n${run.stdout}\n${run.stderr}`);
} finally {
  await external.close();
  await relay.stop();
  await rm(stateDir, { recursive: true, force: true });
}
console.log(`\nStopped the relay and the external system; the demo took ${seconds()}.`);
process.exitCode = exitCode;
