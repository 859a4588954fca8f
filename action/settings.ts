/** Every input the action reads, in one typed object (names match action.yml). */
import { readFileSync } from 'node:fs';
import * as core from '@actions/core';
import { isMap, isScalar, parseDocument } from 'yaml';
import { RESUME_INPUT } from '../shared/park.ts';
import type { RunRef } from '../shared/park.ts';
import { RunId } from '../shared/protocol.ts';

export interface GitHubContext {
  repository: string;
  sha: string;
  ref: string;
  runId: string;
  runAttempt: string;
  actor: string;
  /** Who started this attempt of the run (GITHUB_TRIGGERING_ACTOR, else GITHUB_ACTOR; '' unknown): preventSelfReview refuses them. */
  initiator: string;
  serverUrl: string;
  workspace: string;
  runUrl: string;
  /** This attempt of the run (a re-run's log is another page). */
  attemptUrl: string;
  /** GITHUB_WORKFLOW_REF: `owner/repo/.github/workflows/deploy.yml@refs/heads/main`. */
  workflowRef: string;
  /** GITHUB_EVENT_NAME and GITHUB_EVENT_PATH: a resume is a `workflow_dispatch` carrying `hookgate-resume`. */
  eventName: string;
  eventPath: string;
}

export interface Settings {
  config: string;
  target: string | null;
  /** Gate mode: only this constraint list of `target` runs. */
  phase: 'beforeDeployment' | 'afterDeployment' | null;
  relayUrl: string;
  /** The relay's RELAY_TOKEN; null: authenticate with a GitHub Actions OIDC token instead. */
  relayToken: string | null;
  /** Standard Webhooks signing secret for every outgoing webhook (input webhook-signing-secret); null: unsigned. */
  webhookSigningSecret: string | null;
  secrets: Record<string, string>;
  context: Record<string, string>;
  githubToken: string;
  deploymentId: string;
  /** Park after waiting this long (input park-after); null: never park. */
  parkAfterMs: number | null;
  /** The run's event carries `hookgate-resume` (its value is `deploymentId`): this run resumes a parked deployment. */
  resumeRequested: boolean;
  github: GitHubContext;
}

export const INPUTS = {
  config: 'config',
  target: 'target',
  phase: 'phase',
  relayUrl: 'relay-url',
  relayToken: 'relay-token',
  webhookSigningSecret: 'webhook-signing-secret',
  secrets: 'secrets',
  context: 'context',
  githubToken: 'github-token',
  deploymentId: 'deployment-id',
  parkAfter: 'park-after',
} as const;

export const OUTPUTS = {
  deploymentId: 'deployment-id',
  result: 'result',
  report: 'report',
  outputs: 'outputs',
} as const;

/**
 * State the post step reads: to cancel a run whose main step did not finish, and in
 * beforeDeployment gate mode whether an afterDeployment step is to record the outcome.
 */
export const STATE = {
  deploymentId: 'deployment-id',
  finished: 'finished',
  target: 'target',
  phase: 'phase',
  hasAfterDeployment: 'has-after-deployment',
  /** The job parked: the post step leaves its gates and targets as they are. */
  parked: 'parked',
  /** The attempt the job ran (a continuing job's is the parked one). */
  attempt: 'attempt',
  /** The deploy queue the job entered, JSON `{repository, application}`: the post step leaves it. */
  queue: 'queue',
} as const;

/** Reads and checks the inputs; throws an Error naming the input on bad values. */
export function getSettings(): Settings {
  const github = githubContext(process.env);
  const relayUrl = core.getInput(INPUTS.relayUrl, { required: true }).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+/.test(relayUrl)) {
    throw new Error(`input ${INPUTS.relayUrl}: '${relayUrl}' is not an http(s) URL`);
  }
  const relayToken = core.getInput(INPUTS.relayToken) || null;
  if (relayToken) core.setSecret(relayToken);
  else if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL) {
    throw new Error(
      `input ${INPUTS.relayToken} is empty and the job cannot get an OIDC token: add \`permissions: id-token: write\` ` +
        `to the job (the relay must list this repository in ALLOWED_REPOSITORIES), or set ${INPUTS.relayToken} to the relay's RELAY_TOKEN secret`,
    );
  }
  const webhookSigningSecret = core.getInput(INPUTS.webhookSigningSecret) || null;
  if (webhookSigningSecret) core.setSecret(webhookSigningSecret);

  const secrets = parseMap(INPUTS.secrets, core.getInput(INPUTS.secrets));
  for (const value of Object.values(secrets)) if (value) core.setSecret(value);

  const target = core.getInput(INPUTS.target) || null;
  const phase = core.getInput(INPUTS.phase) || null;
  if (phase !== null && phase !== 'beforeDeployment' && phase !== 'afterDeployment') {
    throw new Error(`input ${INPUTS.phase}: '${phase}' is not a constraint list; use beforeDeployment or afterDeployment`);
  }
  if (phase !== null && target === null) {
    throw new Error(`input ${INPUTS.phase} needs input ${INPUTS.target}: gate mode runs one target's ${phase} constraints`);
  }

  const resumeId = resumeFromEvent(github);
  return {
    config: core.getInput(INPUTS.config) || 'deploy.yml',
    target,
    phase,
    relayUrl,
    relayToken,
    webhookSigningSecret,
    secrets,
    context: parseMap(INPUTS.context, core.getInput(INPUTS.context)),
    githubToken: core.getInput(INPUTS.githubToken),
    // A resume names the deployment it continues: it wins over the deployment-id input.
    deploymentId: resumeId ?? (core.getInput(INPUTS.deploymentId) || `${github.repository}/${github.runId}`),
    parkAfterMs: parkAfterFor(phase, parseParkAfter(core.getInput(INPUTS.parkAfter))),
    resumeRequested: resumeId !== null,
    github,
  };
}

/** Longest park-after: as long as a gate may wait (30 days). */
const MAX_PARK_AFTER_SECONDS = 30 * 24 * 60 * 60;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Input park-after (`90s`, `10m`, `5h`, `2d`, `0s`) in milliseconds; empty: null (never park). */
export function parseParkAfter(text: string): number | null {
  const value = text.trim();
  if (value === '') return null;
  const match = /^(\d{1,7})([smhd])$/.exec(value);
  const ms = match ? Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0) : NaN;
  if (!(ms <= MAX_PARK_AFTER_SECONDS * 1000)) {
    throw new Error(
      `input ${INPUTS.parkAfter}: '${value.slice(0, 40)}' is not a duration of at most 30 days; write a number and a unit, e.g. 90s, 10m, 5h or 2d (0s parks as soon as the job only waits)`,
    );
  }
  return ms;
}

/**
 * The deployment id a `workflow_dispatch` event carries in input `hookgate-resume` (a resume the
 * relay dispatched, or one by hand); null for any other event or an empty input.
 */
export function resumeFromEvent(github: GitHubContext): string | null {
  if (github.eventName !== 'workflow_dispatch' || !github.eventPath) return null;
  let event: unknown;
  try {
    event = JSON.parse(readFileSync(github.eventPath, 'utf8'));
  } catch {
    throw new Error(`input ${RESUME_INPUT}: the workflow_dispatch event (GITHUB_EVENT_PATH) could not be read as JSON`);
  }
  const inputs: unknown = typeof event === 'object' && event !== null ? (event as { inputs?: unknown }).inputs : undefined;
  const raw: unknown = typeof inputs === 'object' && inputs !== null ? (inputs as Record<string, unknown>)[RESUME_INPUT] : undefined;
  if (raw === undefined || raw === null || raw === '') return null;
  const id = RunId.safeParse(typeof raw === 'string' ? raw.trim() : raw);
  if (!id.success) {
    throw new Error(`input ${RESUME_INPUT}: not a deployment id (it ${id.error.issues[0]?.message ?? 'is invalid'}); dispatch with the id the parked run's summary shows`);
  }
  return id.data;
}

/** This GitHub run as the relay records it (RunRef): its id, attempt and page. */
export function runRef(github: GitHubContext): RunRef {
  return {
    id: /^[0-9A-Za-z_-]{1,40}$/.test(github.runId) ? github.runId : 'local',
    attempt: Math.min(10_000, Math.max(1, runAttempt(github))),
    url: /^https?:\/\//.test(github.runUrl) ? github.runUrl : '',
  };
}

/**
 * The relay credential: the relay-token input, or a fresh GitHub Actions OIDC token for
 * every request (they live minutes; a wait lasts up to a day), with the relay's URL as audience.
 */
export function relayCredential(relayToken: string | null, relayUrl: string): string | (() => Promise<string>) {
  return relayToken ?? (() => core.getIDToken(relayUrl));
}

/** A JSON or YAML map of scalars (e.g. `${{ toJSON(secrets) }}`), values as strings. */
function parseMap(input: string, text: string): Record<string, string> {
  if (!text.trim()) return {};
  const doc = parseDocument(text);
  // The text may be a secret: never echo it.
  if (doc.errors.length > 0) throw new Error(`input ${input}: is neither a JSON nor a YAML map`);
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return {};
  if (!isMap(root)) throw new Error(`input ${input}: must be a map of names to values`);
  const result: Record<string, string> = {};
  for (const { key, value } of root.items) {
    const name = String(isScalar(key) ? key.value : key);
    if (value !== null && !isScalar(value)) {
      throw new Error(`input ${input}: '${name}' must be a string, number or boolean`);
    }
    // The scalar as written: YAML would read `007` as 7 and `1.10` as 1.1.
    result[name] = value === null || value.value === null ? '' : String(value.source ?? value.value);
  }
  return result;
}

/** GITHUB_RUN_ATTEMPT as a number: 1 for the first run, 2 for its first re-run. */
export function runAttempt(github: GitHubContext): number {
  return Number(github.runAttempt) || 1;
}

/** The run as the runner describes it in GITHUB_* variables. */
export function githubContext(env: NodeJS.ProcessEnv): GitHubContext {
  const repository = env.GITHUB_REPOSITORY || 'local/repository';
  const runId = env.GITHUB_RUN_ID || 'local';
  const serverUrl = env.GITHUB_SERVER_URL || 'https://github.com';
  return {
    repository,
    sha: env.GITHUB_SHA || '',
    ref: env.GITHUB_REF || '',
    runId,
    runAttempt: env.GITHUB_RUN_ATTEMPT || '1',
    actor: env.GITHUB_ACTOR || '',
    initiator: env.GITHUB_TRIGGERING_ACTOR || env.GITHUB_ACTOR || '',
    serverUrl,
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    runUrl: `${serverUrl}/${repository}/actions/runs/${runId}`,
    attemptUrl: `${serverUrl}/${repository}/actions/runs/${runId}/attempts/${env.GITHUB_RUN_ATTEMPT || '1'}`,
    workflowRef: env.GITHUB_WORKFLOW_REF || '',
    eventName: env.GITHUB_EVENT_NAME || '',
    eventPath: env.GITHUB_EVENT_PATH || '',
  };
}

/**
 * park-after, refused for an afterDeployment gate step: the job's beforeDeployment step and the
 * user's deploy ran before it in this job, and a resumed run would run them again.
 */
function parkAfterFor(phase: Settings['phase'], parkAfterMs: number | null): number | null {
  if (parkAfterMs !== null && phase === 'afterDeployment') {
    throw new Error(
      `input ${INPUTS.parkAfter}: an afterDeployment gate step cannot park (a resumed run would run the steps before it, your deploy included, again); leave it empty`,
    );
  }
  return parkAfterMs;
}
