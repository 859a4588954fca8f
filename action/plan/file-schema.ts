// The whole deployment file as one zod schema, for editors (dist/deploy.schema.json, made by
// scripts/json-schema.ts) and nothing else: the loader reads the file its own way, with positions,
// did-you-mean hints and notices. Built from the loader's leaf schemas so both take the same values;
// what a JSON Schema cannot say (names defined elsewhere in the file, cycles, template variables,
// durations in seconds) stays the loader's, and `npx hookgate validate` checks it.
import { z } from 'zod';
import { ApprovalPolicy, MAX_APPROVERS, MAX_GATE_TIMEOUT_SECONDS } from '../../shared/protocol.ts';
import {
  commandsSchema,
  contextSchema,
  DEFAULT_MONITOR_INTERVAL_SECONDS,
  durationSchema,
  MIN_MONITOR_INTERVAL_SECONDS,
  monitorSchema,
  nonEmpty,
  pauseSchema,
  QUEUE_STRATEGIES,
  roleName,
  runWebhookSchema,
  setWeightSchema,
  webhookSchema,
} from './schemas.ts';

/** The text of an editor's hover: Markdown where the editor renders it, the same words where it does not. */
function doc<T extends z.ZodType>(schema: T, text: string): T {
  return schema.meta({ description: text.replace(/`/g, ''), markdownDescription: text });
}

/** A field the loader accepts and ignores, with a notice. */
const ignored = (what: string): z.ZodOptional<z.ZodUnknown> => doc(z.unknown(), `accepted, ignored (${what}; a notice says so)`).optional();
const KUBERNETES = 'Kubernetes-only in Armory: hookgate deploys nothing to a cluster';

// `seconds`, `Minutes`, `HOURS`: the loader takes any case, singular or plural.
const unitPattern = `^(?:${['second', 'minute', 'hour'].map((w) => `${[...w].map((c) => `[${c}${c.toUpperCase()}]`).join('')}[sS]?`).join('|')})$`;
const unit = z
  .string()
  .regex(new RegExp(unitPattern))
  // patternErrorMessage: VS Code's and yaml-language-server's message for a value the pattern refuses.
  .meta({ examples: ['seconds', 'minutes', 'hours'], patternErrorMessage: 'expected seconds, minutes or hours (any case)' });
const durationFields = durationSchema.in.shape;

const unitOrUnits = [{ required: ['unit'] }, { required: ['units'] }];
const Duration = z
  .strictObject({
    duration: doc(durationFields.duration, 'how many units'),
    unit: doc(unit, '`seconds`, `minutes` or `hours`, in any case').optional(),
    units: doc(unit, 'the same as `unit` (Armory spells it both ways); give one of them').optional(),
  })
  .meta({ id: 'Duration', description: 'a duration: `{duration, unit}`', oneOf: unitOrUnits, defaultSnippets: [{ body: { duration: 1, unit: 'hours' } }] });
/** `{duration, unit}` (or `units`, not both), explained for its field. */
const duration = (text: string): z.ZodType => doc(Duration, text);

const request = webhookSchema.shape;
const header = request.headers.unwrap().unwrap().element.shape;
const Headers = z
  .array(z.strictObject({ key: doc(header.key, 'the header’s name, sent as written'), value: doc(header.value, 'the header’s value, templated') }))
  .meta({ id: 'Headers' });
const headers = doc(Headers.nullish(), 'HTTP headers: `- { key: Authorization, value: "Bearer {{secrets.t}}" }`; values templated, keys not');
const body = request.bodyTemplate.unwrap().unwrap().shape;
const BodyTemplate = z
  .strictObject({
    inline: doc(body.inline, 'the body, sent verbatim after templating (a folded `>-` block arrives as YAML reads it)'),
    path: doc(body.path, 'hookgate: the template read from a file, relative to the deployment file'),
  })
  .meta({ id: 'BodyTemplate', oneOf: [{ required: ['inline'] }, { required: ['path'] }] });
const bodyTemplate = doc(BodyTemplate.nullish(), 'the request body: `inline` (the text) or `path` (a file holding it)');
const requestShape = {
  method: doc(request.method, 'HTTP method, any case; default `POST`'),
  uriTemplate: doc(request.uriTemplate, 'the URL, templated (`{{armory.callbackUri}}`, `{{context.key}}`, `{{secrets.name}}`…); http(s) after templating'),
  headers,
  bodyTemplate,
};

const m = monitorSchema.shape;
const monitor = doc(
  z
    .strictObject({
      ...requestShape,
      method: doc(m.method, 'HTTP method of the status request, any case; default `GET`'),
      uriTemplate: doc(m.uriTemplate, 'the status URL, templated; also `{{response.location}}`, `{{response.locationId}}` and `{{response.body.<key>}}` from the call’s answer'),
      interval: duration(`how often to ask; default ${DEFAULT_MONITOR_INTERVAL_SECONDS} seconds, at least ${MIN_MONITOR_INTERVAL_SECONDS} seconds`).optional(),
      statusPath: doc(m.statusPath, 'a JSONPath into the status answer’s JSON, e.g. `$.result` (templated)'),
      success: doc(m.success, 'values at `statusPath` that mean success (strings, numbers, true/false, compared as text)'),
      failure: doc(m.failure, 'values at `statusPath` that mean failure (compared as text); anything else: keep waiting'),
    })
    .meta({ id: 'Monitor' })
    .nullish(),
  'hookgate: poll a status request until the value at `statusPath` is one of `success` or `failure`, for systems that cannot call back; the webhook’s `timeout` still applies',
);

const webhook = z.strictObject({
  name: doc(request.name, 'unique; what `runWebhook.name` names (spaces allowed)'),
  ...requestShape,
  retryCount: doc(
    request.retryCount,
    'retries of the call on network errors, 408, 429 and 5xx, with exponential backoff and jitter or the answer’s `Retry-After`, never past the gate’s deadline; any other 4xx fails at once; 0–10, default 0',
  ),
  disableCallback: doc(request.disableCallback, 'the 2xx answer is the success; no gate, nothing waited for'),
  timeout: duration(`hookgate: how long the gate waits; default 24 hours, at most ${MAX_GATE_TIMEOUT_SECONDS / 86_400} days`).optional(),
  cancelTemplate: doc(
    z.strictObject(requestShape).nullish(),
    'hookgate: sent once (5 s, no retry) when the action stops waiting for the callback (job canceled, a sibling failed, timeout); same fields and variables as the call',
  ),
  signingSecret: doc(
    request.signingSecret,
    'hookgate: `"{{secrets.NAME}}"` signs this webhook’s requests (Standard Webhooks), over the `webhook-signing-secret` input; `false`: never signed',
  ),
  heartbeatTimeout: duration('hookgate: once called, the system must post something (progress, or `{"progress": true}`) at least this often, or the gate fails').optional(),
  monitor,
  networkMode: ignored('the runner is inside your network already'),
  agentIdentifier: ignored('the runner is inside your network already'),
}).meta({ id: 'Webhook' });

const rw = runWebhookSchema.shape;
const runWebhook = doc(
  z.strictObject({
    name: doc(rw.name, 'a webhook under `webhooks`'),
    context: doc(rw.context, 'this step’s `{{context.*}}` values, over the file’s'),
  }).meta({ id: 'RunWebhook' }),
  'call a webhook and wait for its callback (or its monitor)',
);

const approvalOnly = 'only with `untilApproved: true`';
const APPROVAL_FIELDS = ['untilApproved', 'approvalExpiration', 'requiresRoles', 'requiresRole', 'minimumApprovals', 'preventSelfReview'];
// Either form, never a mix: the loader refuses approval fields on a timed pause and a duration on an approval.
const timedPause = { required: ['duration'], oneOf: unitOrUnits, not: { anyOf: APPROVAL_FIELDS.map((f) => ({ required: [f] })) } };
const approvalPause = { required: ['untilApproved'], not: { anyOf: ['duration', 'unit', 'units'].map((f) => ({ required: [f] })) } };
const ps = pauseSchema.shape;
const pause = doc(
  z.strictObject({
    duration: doc(durationFields.duration, 'a timed pause: how many units').optional(),
    unit: doc(unit, 'a timed pause: `seconds`, `minutes` or `hours`, any case').optional(),
    units: doc(unit, 'the same as `unit`').optional(),
    untilApproved: doc(z.literal(true), 'wait for a person on the relay’s approval page').optional(),
    approvalExpiration: duration(`${approvalOnly}: the approval fails when nobody decided by then; default 24 hours, at most 30 days`).optional(),
    requiresRoles: doc(ps.requiresRoles, `${approvalOnly}: who may decide, each role through \`roles:\`, else the owner organization’s team of that name; at most 20`),
    requiresRole: doc(ps.requiresRole, `${approvalOnly}: one role, or a list (as \`requiresRoles\`)`),
    minimumApprovals: doc(ps.minimumApprovals, `${approvalOnly}: that many distinct eligible people must approve (1–10; default 1)`),
    preventSelfReview: doc(ps.preventSelfReview, `${approvalOnly}: the person who started the run may not approve`),
  }).meta({ id: 'Pause', anyOf: [timedPause, approvalPause] }),
  'a timed wait (`{duration, unit}`) or an approval (`{untilApproved: true}`)',
);

const gateSteps = [z.strictObject({ pause }), z.strictObject({ runWebhook })] as const;
const GateStep = z.union(gateSteps).meta({ id: 'GateStep', description: 'one `pause` or `runWebhook`' });
const gateList = (text: string): z.ZodType => doc(z.array(GateStep).nullish(), `\`pause\`/\`runWebhook\` items, in parallel, ${text}`);
const canaryStep = z.union([
  ...gateSteps,
  z.strictObject({ setWeight: doc(z.strictObject({ weight: doc(setWeightSchema.shape.weight, '0–100') }), 'runs `commands.setWeight` with `HOOKGATE_WEIGHT`') }),
  z.strictObject({ exposeServices: doc(z.unknown(), `accepted, ignored (${KUBERNETES})`) }),
]).meta({ id: 'CanaryStep', description: 'one `setWeight`, `pause` or `runWebhook`' });

const Commands = doc(
  z.strictObject({
    deploy: doc(commandsSchema.shape.deploy, 'hookgate: deploys the target (bash -e, in the workspace); a failure rolls back'),
    setWeight: doc(commandsSchema.shape.setWeight, 'hookgate: runs for each canary `setWeight`, with `HOOKGATE_WEIGHT`'),
    redirectTraffic: doc(commandsSchema.shape.redirectTraffic, 'hookgate: blue/green’s traffic switch'),
    shutDownOldVersion: doc(commandsSchema.shape.shutDownOldVersion, 'hookgate: blue/green’s last step'),
    rollback: doc(commandsSchema.shape.rollback, 'hookgate: runs after a deploy or strategy failure'),
  }),
  'hookgate: shell commands; a missing one is a logged no-op',
).meta({ id: 'Commands' });
const commands = (text: string): z.ZodType => doc(Commands.nullish(), text);
const Context = contextSchema.meta({ id: 'Context', description: 'keys and values (strings, numbers, true/false) for `{{context.*}}`' });
const context = (text: string): z.ZodType => doc(Context.nullish(), text);
const kubernetesFields = {
  kind: ignored(KUBERNETES),
  manifests: ignored(KUBERNETES),
  trafficManagement: ignored(KUBERNETES),
};

const target = z.strictObject({
  strategy: doc(nonEmpty, 'a name under `strategies`; none: deploy only').optional(),
  constraints: doc(
    z
      .strictObject({
      dependsOn: doc(z.union([nonEmpty, z.array(nonEmpty)]).nullish(), 'start only after each listed target succeeded'),
      beforeDeployment: gateList('before the deploy; one failure: not deployed'),
      afterDeployment: gateList('after the strategy; one failure: dependents canceled, no rollback'),
      })
      .nullish(),
    'what the target waits for',
  ),
  commands: commands('per-target commands over the top-level ones'),
  account: doc(nonEmpty, 'Armory’s cluster: hookgate deploys nothing there; `{{armory.accountName}}` carries it').optional(),
  namespace: doc(nonEmpty, 'Armory’s namespace: `{{armory.namespace}}` carries it').optional(),
  ...kubernetesFields,
  deploymentConfig: ignored(KUBERNETES),
}).meta({ id: 'Target' });

const blueGreen = z.strictObject({
  activeService: doc(z.string(), `accepted, ignored (${KUBERNETES})`).optional(),
  previewService: doc(z.string(), `accepted, ignored (${KUBERNETES})`).optional(),
  redirectTrafficAfter: gateList('then `commands.redirectTraffic`; a failure rolls back'),
  shutDownOldVersionAfter: gateList('then `commands.shutDownOldVersion`'),
  shutdownOldVersionAfter: gateList('then `commands.shutDownOldVersion` (Armory’s spelling)'),
});
const strategy = z
  .union([
    z.strictObject({ canary: doc(z.strictObject({ steps: doc(z.array(canaryStep).nullish(), '`setWeight`, `pause`, `runWebhook`, in order; any failure rolls back') }).nullable(), 'a canary') }),
    z.strictObject({ blueGreen: doc(blueGreen.nullable(), 'a blue/green switch') }),
  ])
  .meta({ id: 'Strategy', description: 'either `canary` or `blueGreen`' });

const approver = ApprovalPolicy.shape.approvers.unwrap().element;
const role = z.union([approver, z.array(approver).min(1).max(MAX_APPROVERS)]);

const deploymentConfig = z.strictObject({
  timeout: ignored(KUBERNETES),
  keepDeploymentObject: ignored(KUBERNETES),
  ifDeploymentInProgress: doc(
    z.strictObject({
      strategy: doc(z.enum(QUEUE_STRATEGIES).nullish(), '`reject` (default): a new deployment fails at start while one runs; `enqueueOne`: one waits, a newer one replacing it'),
    }).nullish(),
    'one deployment of the application at a time, per repository',
  ),
});

/** The deployment file (deploy.yml) as editors see it. */
export const deploymentFileSchema = z
  .strictObject({
    version: doc(z.literal('v1'), 'accepted; only `v1` exists').optional(),
    application: doc(nonEmpty, 'the application’s name (`{{armory.applicationName}}`); default: the repository name').optional(),
    context: context('values for `{{context.*}}`, over the `context` input'),
    commands: commands('hookgate: shell commands (bash -e, in the workspace); a target’s own override them'),
    roles: doc(
      z.record(roleName, role).meta({ maxProperties: 100 }).nullish(),
      'hookgate: who each role of `requiresRoles` is: GitHub logins and `@org/team`s (quote a team); at most 100 roles',
    ),
    targets: doc(z.record(z.string(), target.nullable()).meta({ minProperties: 1 }), 'the targets (environments) by name; each runs beforeDeployment → deploy → strategy → afterDeployment'),
    strategies: doc(z.record(z.string(), strategy).nullish(), 'strategies by name, for `targets.<name>.strategy`'),
    webhooks: doc(z.array(webhook).nullish(), 'the external systems’ calls, by `name`'),
    contextOverrides: doc(z.record(z.string(), Context.nullish()).nullish(), 'Armory: context for one target’s steps, over the file’s, under a step’s own'),
    targetFilters: ignored('hookgate deploys every target, or the one the `target` input names'),
    files: ignored('Armory’s CLI fills it with manifests, which hookgate does not deploy'),
    deploymentConfig: doc(deploymentConfig.nullish(), 'Armory’s deployment settings; hookgate reads `ifDeploymentInProgress`'),
    account: ignored(KUBERNETES),
    namespace: ignored(KUBERNETES),
    ...kubernetesFields,
  })
  .meta({ description: 'hookgate deployment file: a superset of Armory CD-as-a-Service’s deploy.yml' });
