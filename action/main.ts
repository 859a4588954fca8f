/** The action's main step: inputs → plan → deployment → outputs, summary and exit status. */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import * as core from '@actions/core';
import { errorMessage } from './lib/errors.ts';
import { runDeployment } from './engine/run-targets.ts';
import { formatFileError, loadDeploymentFile } from './plan/load.ts';
import { coreLog } from './output/log.ts';
import type { Log } from './output/log.ts';
import type { Plan } from './plan/plan.ts';
import { createRedactor, redactDeep } from './output/redact.ts';
import type { Redact } from './output/redact.ts';
import { RelayClient } from './clients/relay.ts';
import { OUTPUTS, STATE, getSettings, relayCredential } from './settings.ts';
import type { Settings } from './settings.ts';
import { createGitHubDeployments, deploymentOptions } from './clients/github-deployments.ts';
import { createTargetEffects } from './effects/index.ts';
import { summaryMarkdown } from './output/summary.ts';
import { systemClock } from './lib/time.ts';
import { checkSigningSecrets } from './clients/webhook.ts';
import { workspaceFileReader } from './clients/workspace-files.ts';
import { commandSafeJson, neutralizeCommands } from './output/workflow-commands.ts';

/** Runs the action; the one place that turns an error into a failed step. */
export async function run(): Promise<void> {
  let redact: Redact = (text) => text;
  let dispose = (): void => undefined;
  try {
    const settings = getSettings();
    redact = createRedactor([
      ...Object.values(settings.secrets),
      settings.relayToken ?? '',
      settings.webhookSigningSecret ?? '',
      settings.githubToken,
    ]);
    const log = coreLog(redact);
    core.saveState(STATE.deploymentId, settings.deploymentId);
    if (settings.target) core.saveState(STATE.target, settings.target);
    if (settings.phase) core.saveState(STATE.phase, settings.phase);
    core.setOutput(OUTPUTS.deploymentId, settings.deploymentId);

    const plan = await loadPlan(settings, log);
    // The post step of a beforeDeployment gate step closes the target only when no afterDeployment step will.
    if (settings.phase === 'beforeDeployment') {
      core.saveState(STATE.hasAfterDeployment, String(plan.targets.some((t) => t.afterDeployment.length > 0)));
    }
    const what = settings.phase ? `the ${settings.phase} gates of ${settings.target ?? ''}` : plan.targets.map((t) => t.name).join(' → ');
    log.info(`hookgate: deployment ${settings.deploymentId} of ${plan.application}: ${what}`);
    const relay = new RelayClient({ baseUrl: settings.relayUrl, token: relayCredential(settings.relayToken, settings.relayUrl) });
    const deployments = createGitHubDeployments({
      ...deploymentOptions(settings.github, settings.githubToken, settings.deploymentId, log),
      gateMode: settings.phase !== null,
    });
    const effects = createTargetEffects({ plan, settings, relay, deployments, log, redact, clock: systemClock });
    const cancellation = onJobCanceled(log);
    // Until run() returns: a late SIGINT must not kill the step while it writes its outputs.
    dispose = cancellation.dispose;
    const report = await runDeployment(plan, settings.deploymentId, effects, cancellation.signal, settings.phase);

    core.saveState(STATE.finished, 'true');
    // Redacted before JSON or Markdown escaping, which would otherwise disguise a secret.
    const safe = redactDeep(report, redact);
    core.setOutput(OUTPUTS.result, report.result);
    core.setOutput(OUTPUTS.report, redact(commandSafeJson(safe)));
    await writeSummary(redact(summaryMarkdown(safe)), log);
    log.info(`hookgate: result ${report.result}`);
    if (report.result !== 'succeeded') {
      const worst = safe.targets.find((t) => t.outcome === report.result);
      core.setFailed(neutralizeCommands(redact(`deployment ${report.result}${worst ? `: ${worst.message}` : ''}`)));
    }
  } catch (error) {
    core.setFailed(neutralizeCommands(redact(errorMessage(error))));
  } finally {
    dispose();
  }
}

/**
 * A canceled job's step gets SIGINT, then SIGTERM about 7.5 s later, then is killed
 * (GitHub's runner). Either signal aborts the run: pending gates are withdrawn at the
 * relay, external systems told (cancelTemplate), and the result is `canceled`.
 */
function onJobCanceled(log: Log): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) return;
    log.warning(`hookgate: ${name} received: the workflow job was canceled; withdrawing pending gates`);
    controller.abort(new Error('the workflow job was canceled'));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** The job summary; outside a runner (no GITHUB_STEP_SUMMARY) there is none, and that is no failure. */
async function writeSummary(markdown: string, log: Log): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  try {
    await core.summary.addRaw(markdown).write();
  } catch (error) {
    log.warning(`could not write the job summary: ${errorMessage(error)}`);
  }
}

/** Reads and validates the deployment file; every error becomes an annotation before anything runs. */
async function loadPlan(settings: Settings, log: Log): Promise<Plan> {
  const path = resolve(settings.github.workspace, settings.config);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`input config: the deployment file ${settings.config} was not found (looked in ${settings.github.workspace})`);
  }
  const loaded = loadDeploymentFile({
    file: settings.config,
    text,
    secretNames: new Set(Object.keys(settings.secrets)),
    inputContext: settings.context,
    defaultApplication: basename(settings.github.repository),
    readFile: workspaceFileReader(settings.github.workspace, settings.config),
  });
  if (!loaded.ok) {
    for (const e of loaded.errors) {
      log.error(formatFileError(e), { title: 'Invalid deployment file', file: e.file, startLine: e.line, startColumn: e.col });
    }
    const count = loaded.errors.length;
    throw new Error(`${settings.config} has ${count} error${count === 1 ? '' : 's'} (listed above); nothing was deployed`);
  }
  const plan = loaded.plan;
  const unusable = checkSigningSecrets(plan.webhooks, settings.secrets, settings.webhookSigningSecret);
  if (unusable.length > 0) throw new Error(`${unusable.join('; ')}; nothing was deployed`);
  for (const notice of plan.notices) log.notice(notice);
  if (!settings.target) return plan;

  const only = plan.targets.find((t) => t.name === settings.target);
  if (!only) {
    throw new Error(`input target: '${settings.target}' is not a target of ${settings.config} (targets: ${plan.targets.map((t) => t.name).join(', ')})`);
  }
  // One job per environment: the other targets run in their own jobs; dependsOn is checked through the relay.
  return { ...plan, targets: [only] };
}
