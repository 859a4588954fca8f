/** What the fake GitHub records and how a test scripts it; shared by its endpoint modules. */
import type { FakeWorkflow, ProtectionRequest, ProtectionReview, WorkflowDispatch } from './app-types.ts';

export interface Dispatch {
  repository: string;
  eventType: string;
  clientPayload: Record<string, unknown>;
}

export interface WorkflowCallback {
  uri: string;
  status: number;
  authorization: string;
}

export interface RecordedRequest {
  method: string;
  /** Without the query. */
  path: string;
  query: Record<string, string>;
  headers: { authorization: string; accept: string; contentType: string; apiVersion: string; userAgent: string };
  /** The parsed JSON body; null without one. */
  body: unknown;
  /** What the fake answered. */
  status: number;
  /** Why the fake refused the request as GitHub would have; null when it did not (a scripted failure is no refusal). */
  refusal: string | null;
}

export type DeploymentStatusState = 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';

export interface FakeDeploymentStatus {
  id: number;
  state: DeploymentStatusState;
  description: string;
  logUrl: string;
  environment: string;
}

export interface FakeDeployment {
  id: number;
  repository: string;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  description: string | null;
  payload: unknown;
  transientEnvironment: boolean;
  productionEnvironment: boolean;
  /** Oldest first. */
  statuses: FakeDeploymentStatus[];
}

/** A scripted failure of any endpoint but repository_dispatch: GitHub's error `status` (and `message`), or no answer at all (`hang`). */
export interface FailureRule {
  status: 401 | 403 | 404 | 409 | 422 | 500 | 502 | 'hang';
  /** GitHub's message in the answer; a standard one by status otherwise. */
  message?: string;
  method?: 'GET' | 'POST';
  /** Matched against the path without the query. */
  path?: RegExp;
  /** How many requests fail; default all. */
  times?: number;
}

export interface FakeGitHub {
  url: string;
  /** The token a request must present (`Authorization: Bearer …` or `token …`). */
  token: string;
  dispatches: Dispatch[];
  /** The request bodies of the dispatches, exactly as they arrived. */
  rawBodies: string[];
  callbacks: WorkflowCallback[];
  /** Every request but repository_dispatch's (deployments, the App's endpoints, workflow dispatches), in order of arrival. */
  requests: RecordedRequest[];
  /** The workflow_dispatch requests GitHub accepted, oldest first (app-types.ts). */
  workflowDispatches: WorkflowDispatch[];
  /** Declares a workflow file of a repository and its `workflow_dispatch` inputs; a dispatch of another file answers 404. */
  registerWorkflow(workflow: FakeWorkflow): void;
  /** Calls `hook` with every accepted workflow dispatch, after its answer was sent (the test plays the runner). */
  onDispatch(hook: (dispatch: WorkflowDispatch) => void): void;
  /** Moves the fake's clock (App JWT checks, installation token expiry) by `seconds`. */
  advanceClock(seconds: number): void;
  /** Every deployment, oldest first. */
  deployments: FakeDeployment[];
  /** Branches and tags a deployment's `ref` may name, to their commit; a full commit SHA needs no entry. */
  refs: Map<string, string>;
  /** Adds a scripted failure; rules are tried in order. */
  fail(rule: FailureRule): void;
  /** A deployment made by someone else (another run, another tool), with its statuses. */
  seedDeployment(fields: Partial<Omit<FakeDeployment, 'id' | 'statuses'>> & { states?: DeploymentStatusState[] }): FakeDeployment;
  /** The requests GitHub would have refused as malformed. */
  refusals(): RecordedRequest[];
  /**
   * Who the OAuth authorize page signs in: a login answers at once with a 302 back to the app
   * (as GitHub does for a user who authorized it before); null (the default) shows the
   * "Sign in as" page, a button per known user.
   */
  signInAs(login: string | null): void;
  /**
   * GitHub asks the App's deployment protection rule about `request`: the rule is pending until the
   * App reviews it, and the answer is the webhook payload GitHub sends (deliver it with deliverWebhook).
   */
  protectionRuleRequested(request: ProtectionRequest): Record<string, unknown>;
  /** The protection rule reviews the fake accepted, oldest first. */
  protectionReviews: ProtectionReview[];
  /** Resolves when `count` workflow callbacks have been answered. */
  waitForCallbacks(count: number, timeoutMs?: number): Promise<WorkflowCallback[]>;
  close(): Promise<void>;
}

/** An HTTP answer of the fake. */
export interface Answer {
  status: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is (an HTML page, a form-encoded answer), with its content type in `headers`. */
  text?: string;
  headers?: Record<string, string>;
}

/** A request GitHub would refuse as malformed, with GitHub's answer to it. */
export class Refusal extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.body = { message, documentation_url: 'https://docs.github.com/rest', status: String(status), ...extra };
  }
}
