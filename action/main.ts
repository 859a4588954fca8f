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
import { collectOutputs } from './engine/report.ts';
import type { RunReport } from './engine/report.ts';
import { startSession } from './effects/session.ts';
import type { ParkedJob, Session } from './effects/session.ts';
import { warnLongWaits } from './effects/long-waits.ts';
import { systemClock } from './lib/time.ts';
import { checkSigningSecrets } from './clients/webhook.ts';
import { workspaceFileReader } from './clients/workspace-files.ts';
import { commandSafeJson, neutralizeCommands } from './output/workflow-commands.ts';
import { QueueClient } from './clients/queue.ts';
import { createContext } from './effects/context.ts';
import type { EffectsDeps } from './effects/context.ts';
import { enterQueue, parkedHoldUntil } from './effects/queue.ts';
import type { QueuePlace } from './effects/queue.ts';

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

    const { plan, allTargets } = await loadPlan(settings, log);
    // The post step of a beforeDeployment gate step closes the target only when no afterDeployment step will.
    if (settings.phase === 'beforeDeployment') {
      core.saveState(STATE.hasAfterDeployment, String(plan.targets.some((t) => t.afterDeployment.length > 0)));
    }
    const what = settings.phase ? `the ${settings.phase} gates of ${settings.target ?? ''}` : plan.targets.map((t) => t.name).join(' → ');
    log.info(`hookgate: deployment ${settings.deploymentId} of ${plan.application}: ${what}`);
    warnLongWaits(plan, settings.parkAfterMs, log);
    const relay = new RelayClient({ baseUrl: settings.relayUrl, token: relayCredential(settings.relayToken, settings.relayUrl) });
    const session = await startSession({ relay, settings, log, redact, clock: systemClock });
    core.saveState(STATE.attempt, String(session.attempt));
    const deployments = createGitHubDeployments({
      ...deploymentOptions(settings.github, settings.githubToken, settings.deploymentId, log, session.attempt),
      gateMode: settings.phase !== null,
      continued: new Set(plan.targets.map((t) => t.name).filter((name) => session.startedBefore(name))),
    });
    const { attempt, watch, journal } = session;
    // A continuing job's approvals keep the parked attempt's initiator (preventSelfReview), not its own run's starter.
    const jobSettings = { ...settings, github: { ...settings.github, initiator: session.initiator } };
    const deps: EffectsDeps = { plan, allTargets, settings: jobSettings, relay, deployments, log, redact, clock: systemClock, attempt, watch, journal };
    // One context for the queue's gate and the targets' steps.
    const ctx = createContext(deps);
    const effects = createTargetEffects(deps, ctx);
    const cancellation = onJobCanceled(log);
    // Until run() returns: a late SIGINT must not kill the step while it writes its outputs.
    dispose = cancellation.dispose;
    const signal = AbortSignal.any([cancellation.signal, watch.signal]);
    // Saved before entering: a step that dies after it still leaves the queue in the post step.
    if (plan.deploymentQueue !== null) core.saveState(STATE.queue, JSON.stringify({ repository: settings.github.repository, application: plan.application }));
    const queue = new QueueClient({ baseUrl: settings.relayUrl, token: relayCredential(settings.relayToken, settings.relayUrl) });
    const queued = await enterQueue({ ctx, queue, targets: allTargets.map((t) => t.name) }, signal);
    const report = queued.go ? await runDeployment(plan, settings.deploymentId, effects, signal, settings.phase) : queued.report;
    await finish(report, session, redact, log, settings, queued.place, allTargets);
  } catch (error) {
    core.setFailed(neutralizeCommands(redact(errorMessage(error))));
  } finally {
    dispose();
  }
}

/** Parks the job or closes its park, then writes the outputs, the summary and the exit status. */
async function finish(report: RunReport, session: Session, redact: Redact, log: Log, settings: Settings, place: QueuePlace | null, allTargets: Plan['targets']): Promise<void> {
  const phase = settings.phase;
  let parked: ParkedJob | null = null;
  let parkFailure: string | null = null;
  // The park timer may fire as the last gate is decided: a job whose targets all ended does not park.
  if (session.watch.parked && report.targets.some((target) => target.outcome === 'parked')) {
    // Whatever happens next, the post step leaves the gates pending and the targets running.
    core.saveState(STATE.parked, 'true');
    try {
      parked = await session.park();
      log.info(`hookgate: parked; the deployment resumes ${parked.answer.resume === 'automatic' ? 'automatically' : `by hand (${parked.answer.reason ?? 'see the job summary'})`}`);
      if (phase === 'beforeDeployment') {
        // Exit 0 lets what follows run now: only a guard or GitHub's protection rule holds the deploy back.
        log.warning(
          'hookgate: this gate step parked and exits 0, so the steps and jobs after it run now: guard them with ' +
            "if: steps.<id>.outputs.result == 'succeeded' (or needs.<job>.outputs.result), or deploy in a job whose environment hookgate's deployment protection rule guards",
        );
      }
    } catch (error) {
      // Nothing is lost: the gates stay pending at the relay.
      parkFailure = `the job could not park, so it fails instead (its gates stay pending at the relay; re-run it to go on): ${errorMessage(error)}`;
    }
  } else {
    await session.end();
  }
  await settleQueue(place, report, parked, settings);
  core.saveState(STATE.finished, 'true');
  // Redacted before JSON or Markdown escaping, which would otherwise disguise a secret.
  const safe = redactDeep(report, redact);
  core.setOutput(OUTPUTS.result, report.result);
  core.setOutput(OUTPUTS.report, redact(commandSafeJson(safe)));
  core.setOutput(OUTPUTS.outputs, redact(commandSafeJson(collectOutputs(safe))));
  await writeSummary(redact(summaryMarkdown(safe, parked && redactDeep(parked, redact), allTargets)), log);
  log.info(`hookgate: result ${report.result}`);
  if (parkFailure !== null) core.setFailed(neutralizeCommands(redact(parkFailure)));
  // A parked job exits 0: its runner is freed and the relay resumes the deployment.
  else if (report.result !== 'succeeded' && report.result !== 'parked') {
    const worst = safe.targets.find((t) => t.outcome === report.result);
    core.setFailed(neutralizeCommands(redact(`deployment ${report.result}${worst ? `: ${worst.message}` : ''}`)));
  }
}

/** How long a beforeDeployment gate step that passed holds the queue for the deploy after it: a hosted job's longest life. */
const GATE_STEP_HOLD_MS = 6 * 60 * 60 * 1000;

/**
 * The deploy queue at the job's end: a parked job holds its place until its gates' latest deadline
 * (and a lease for the resume), a passed beforeDeployment gate step until the job's end (its post
 * step leaves), any other job leaves with its target, or the whole deployment.
 */
async function settleQueue(place: QueuePlace | null, report: RunReport, parked: ParkedJob | null, settings: Settings): Promise<void> {
  if (!place) return;
  if (parked) await place.hold(parkedHoldUntil(parked.waits.gates.map((gate) => gate.deadline), Date.now()));
  else if (settings.phase === 'beforeDeployment' && report.result === 'succeeded') await place.hold(Date.now() + GATE_STEP_HOLD_MS);
  else await place.leave(settings.target ?? undefined);
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
/** The plan this job runs, and every target of the file (the relay and the summary draw the whole deployment). */
async function loadPlan(settings: Settings, log: Log): Promise<{ plan: Plan; allTargets: Plan['targets'] }> {
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
  if (!settings.target) return { plan, allTargets: plan.targets };

  const only = plan.targets.find((t) => t.name === settings.target);
  if (!only) {
    throw new Error(`input target: '${settings.target}' is not a target of ${settings.config} (targets: ${plan.targets.map((t) => t.name).join(', ')})`);
  }
  // One job per environment: the other targets run in their own jobs; dependsOn is checked through the relay.
  return { plan: { ...plan, targets: [only] }, allTargets: plan.targets };
}
