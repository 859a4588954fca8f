/** An effects context over fakes: the in-memory relay, a fake clock, a recording log, GitHub and webhook fakes. */
import type { EffectsContext } from '../../../action/effects/context.ts';
import { createContext } from '../../../action/effects/context.ts';
import type { GitHubDeployments } from '../../../action/clients/github-deployments.ts';
import type { Log } from '../../../action/output/log.ts';
import type { Plan, WebhookDef } from '../../../action/plan/plan.ts';
import { githubContext } from '../../../action/settings.ts';
import type { Settings } from '../../../action/settings.ts';
import { FakeClock, here, plan } from '../fakes.ts';
import { FakeRelay } from './fake-relay.ts';

/** A log that keeps every line as `<kind>: <text>`. */
export interface RecordingLog extends Log {
  lines: string[];
}

export function recordingLog(): RecordingLog {
  const lines: string[] = [];
  const keep = (kind: string) => (text: string) => void lines.push(`${kind}: ${text}`);
  return {
    lines,
    info: keep('info'),
    commandOutput: keep('output'),
    warning: keep('warning'),
    error: keep('error'),
    notice: keep('notice'),
    startGroup: keep('group'),
    endGroup: () => void lines.push('endgroup'),
  };
}

/** GitHub deployments that record each call as one line. */
export function recordingDeployments(): GitHubDeployments & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    start: (target, description) => Promise.resolve(void calls.push(`start ${target}: ${description}`)),
    finish: (target, outcome, message, detail) =>
      Promise.resolve(void calls.push(`finish ${target} ${outcome}${detail?.rollbackFailed ? ' (rollback failed)' : ''}: ${message}`)),
  };
}

export interface WebhookCall {
  method: string;
  url: string;
  body: string | null;
}

export interface Harness {
  ctx: EffectsContext;
  relay: FakeRelay;
  clock: FakeClock;
  log: RecordingLog;
  deployments: ReturnType<typeof recordingDeployments>;
  /** Every call to an external system, in order. */
  webhookCalls: WebhookCall[];
  /** How the external system answers; default 200. */
  answer: (call: WebhookCall) => Response | Promise<Response>;
  /** Only the log lines `[target] …` told. */
  story(): string[];
}

export const SECRET = 's3cr3t-value-xyz';

export function settings(fields: Partial<Settings> = {}): Settings {
  const github = githubContext({ GITHUB_REPOSITORY: 'octo/app', GITHUB_RUN_ID: '42', GITHUB_SHA: 'c0ffee', GITHUB_WORKSPACE: process.cwd() });
  return {
    config: 'deploy.yml',
    target: null,
    phase: null,
    relayUrl: 'http://relay.test',
    relayToken: 'relay-token',
    webhookSigningSecret: null,
    secrets: { TOKEN: SECRET },
    context: {},
    githubToken: '',
    deploymentId: 'octo/app/42',
    parkAfterMs: null,
    resumeRequested: false,
    github,
    ...fields,
  };
}

export function webhookDef(name: string, fields: Partial<WebhookDef> = {}): WebhookDef {
  return {
    name,
    method: 'POST',
    uriTemplate: 'https://ci.example/hooks/{{secrets.TOKEN}}',
    headers: [],
    bodyTemplate: '{"callback":"{{armory.callbackUri}}","approval":"{{hookgate.approvalUrl}}"}',
    retryCount: 0,
    disableCallback: false,
    timeoutSeconds: 3600,
    cancel: null,
    heartbeatSeconds: null,
    monitor: null,
    signingSecret: false,
    location: here,
    ...fields,
  };
}

/** A context for a plan with these webhooks, over fresh fakes; `log` replaces the recording log. */
export function harness(options: { webhooks?: WebhookDef[]; plan?: Partial<Plan>; settings?: Partial<Settings>; log?: Log } = {}): Harness {
  const clock = new FakeClock();
  const relay = new FakeRelay(clock);
  const log = recordingLog();
  const deployments = recordingDeployments();
  const webhookCalls: WebhookCall[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const body = init?.body instanceof Uint8Array ? new TextDecoder().decode(init.body) : null;
    const call = { method: init?.method ?? 'GET', url: String(input), body };
    webhookCalls.push(call);
    return h.answer(call);
  };
  const webhooks = Object.fromEntries((options.webhooks ?? []).map((def) => [def.name, def]));
  const ctx = createContext({
    plan: { ...plan([]), webhooks, ...options.plan },
    settings: settings(options.settings),
    relay: relay.client(),
    deployments,
    // Another log (the real one, say) sees what the recording log would have.
    log: options.log ?? log,
    redact: (text) => text.split(SECRET).join('***'),
    clock,
    fetch: fetchImpl as typeof fetch,
  });
  const h: Harness = {
    ctx,
    relay,
    clock,
    log,
    deployments,
    webhookCalls,
    answer: () => new Response('ok'),
    story: () => log.lines.filter((line) => line.startsWith('info: [')).map((line) => line.slice('info: '.length)),
  };
  return h;
}
