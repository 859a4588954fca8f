/** Durations in the plan are always whole or fractional seconds. */
export type Seconds = number;

/** Where an item was written, 1-based, for error messages and annotations. */
export interface Location {
  file: string;
  line: number;
  col: number;
}

/** One HTTP request of a webhook: the call itself, or its `cancelTemplate`. */
export interface RequestTemplate {
  /** Upper-cased; default POST. */
  method: string;
  uriTemplate: string;
  /** Keys are sent as written; values are templates. */
  headers: { key: string; value: string }[];
  /** The inline template, or the contents of `bodyTemplate.path` read at load time. */
  bodyTemplate: string | null;
}

/**
 * hookgate's `monitor` on a webhook (SPEC §11): after the call, poll a status request until the
 * value at `statusPath` is one of `success` or `failure` (anything else: keep waiting) or the gate's
 * timeout. Its templates have the webhook's variables plus `{{response.location}}`,
 * `{{response.locationId}}` and `{{response.body.<key>…}}` from the call's answer.
 */
export interface MonitorDef extends RequestTemplate {
  /** Default 30, at least 5. */
  intervalSeconds: Seconds;
  /** A JSONPath into the status answer's JSON (templated), e.g. `$.result`. */
  statusPath: string;
  /** Values (compared as text) that decide success / failure. */
  success: string[];
  failure: string[];
  location: Location;
}

/** `deploymentConfig.ifDeploymentInProgress.strategy` (Armory): one deployment of an application at a time, per repository, through the relay. */
export type DeploymentQueue = 'reject' | 'enqueueOne';

export interface WebhookDef extends RequestTemplate {
  name: string;
  retryCount: number;
  disableCallback: boolean;
  /** hookgate's `timeout: {duration, unit}`; default 24 hours. */
  timeoutSeconds: Seconds;
  /** hookgate's `cancelTemplate`: tells the external system a withdrawn gate's work is no longer needed. */
  cancel: RequestTemplate | null;
  /** hookgate: `{{secrets.NAME}}` (checked at load time); false: never signed; null: signed with the webhook-signing-secret input, if set. */
  signingSecret: string | false | null;
  /** hookgate's `heartbeatTimeout`: silence after the call longer than this fails the gate; null: none. */
  heartbeatSeconds: Seconds | null;
  /** hookgate's `monitor`: poll a status URL instead of (or beside) waiting for the callback; null: none. */
  monitor: MonitorDef | null;
  location: Location;
}

export type GateItem =
  | { kind: 'webhook'; webhook: string; context: Record<string, string>; location: Location }
  | { kind: 'pause'; seconds: Seconds; location: Location }
  | ({ kind: 'approval'; expirationSeconds: Seconds | null; roles: string[]; location: Location } & ApprovalRules);

/** Who may decide an approval gate and how, as the file says it (SPEC §10); the relay enforces it when it has GitHub sign-in. */
export interface ApprovalRules {
  /** The logins and `@org/team`s the pause's roles name through the file's `roles:` map, without repeats. */
  approvers: string[];
  /** Its roles that `roles:` does not define, as team slugs (`Release Managers` → `release-managers`) of the repository owner's organization. */
  ownerTeams: string[];
  /** That many distinct eligible people must approve (default 1). */
  minimumApprovals: number;
  /** The person who started the run may not approve. */
  preventSelfReview: boolean;
}

export type StrategyStep = GateItem | { kind: 'setWeight'; weight: number; location: Location };

export type Strategy =
  | { kind: 'canary'; name: string; steps: StrategyStep[] }
  | {
      kind: 'blueGreen';
      name: string;
      redirectTrafficAfter: GateItem[];
      shutDownOldVersionAfter: GateItem[];
    };

export interface Commands {
  deploy?: string;
  setWeight?: string;
  redirectTraffic?: string;
  shutDownOldVersion?: string;
  rollback?: string;
}

export interface TargetPlan {
  name: string;
  dependsOn: string[];
  /** The target's commands merged over the top-level ones. */
  commands: Commands;
  beforeDeployment: GateItem[];
  strategy: Strategy | null;
  afterDeployment: GateItem[];
  /** Armory's `account` and `namespace` of the target: hookgate deploys nothing to them, `{{armory.accountName}}` and `{{armory.namespace}}` carry them. */
  account?: string;
  namespace?: string;
  /** Armory's `contextOverrides.<target>`: context for this target's steps, over the file's, under a step's own. */
  context?: Record<string, string>;
}

export interface Plan {
  file: string;
  application: string;
  /** The file's `context` merged over the `context` input. */
  context: Record<string, string>;
  /** Topologically sorted by dependsOn; file order among targets that could run in either order. */
  targets: TargetPlan[];
  webhooks: Record<string, WebhookDef>;
  /** One line per kind of ignored field, naming where it was first seen. */
  notices: string[];
  /** `deploymentConfig.ifDeploymentInProgress.strategy`; null when the file sets none (no queue). */
  deploymentQueue: DeploymentQueue | null;
}
