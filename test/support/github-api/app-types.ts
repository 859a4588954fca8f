/** What the fake's GitHub App endpoints and workflow dispatches take and record. */

/** The GitHub App the fake knows: its id and public key (the relay holds the private key). */
export interface FakeAppOptions {
  /** The App id, the JWT's `iss`. */
  id: string;
  /** The App's public key (PEM, SPKI or PKCS#1), which verifies its JWTs. */
  publicKey: string;
  /** The repositories the App is installed on (owner/name); default `acme/potato-facts`. */
  repositories?: string[];
  /** The App's permissions (`members`, `deployments`, …); default APP_PERMISSIONS. */
  permissions?: Record<string, 'read' | 'write'>;
  /** The App's slug (`GET /app`): its bot, `<slug>[bot]`, triggers the runs it dispatches; default DEFAULT_APP_SLUG. */
  slug?: string;
}

export const DEFAULT_APP_SLUG = 'hookgate-fake';

/** What an App of the fake may do unless a test says otherwise. */
export const APP_PERMISSIONS: Record<string, 'read' | 'write'> = { actions: 'write', metadata: 'read', members: 'read', deployments: 'write' };

/** The App's user authorization (Sign in with GitHub): its OAuth client and registered callback URLs. */
export interface FakeOAuthOptions {
  clientId: string;
  clientSecret: string;
  /** An authorize request's `redirect_uri` must be one of these; without one, the first is used. */
  callbackUrls: string[];
}

/** A person's role on a repository; GitHub's `permission` maps maintain → write and triage → read. */
export type RepositoryRole = 'admin' | 'maintain' | 'write' | 'triage' | 'read';

/** The people the fake knows. Logins match in any case, as GitHub's do. */
export interface FakePeople {
  /** Every user's login; ids are given in this order from 5_000_001. */
  users: string[];
  /** Teams by `@org/slug`: their active members' logins. */
  teams?: Record<string, string[]>;
  /** Teams by `@org/slug`: members who were invited but have not accepted (`state: pending`). */
  pendingMembers?: Record<string, string[]>;
  /** Roles by repository (`owner/name`), then login; a user without one reads (a public repository). */
  roles?: Record<string, Record<string, RepositoryRole>>;
}

/** Options of the fake beyond its token. */
export interface FakeGitHubOptions {
  app?: FakeAppOptions;
  /** GitHub Enterprise Server 3.19: request bodies are checked against its schema, which has no `return_run_details`. */
  ghes?: boolean;
  /** Sign in with GitHub (github-api/oauth.ts): without it, the OAuth pages answer 404. */
  oauth?: FakeOAuthOptions;
  /** Users, teams and repository roles (github-api/people.ts); default none. */
  people?: FakePeople;
}

/** A review the App sent for a deployment protection rule (`POST …/deployment_protection_rule`). */
export interface ProtectionReview {
  repository: string;
  runId: string;
  environment: string;
  state: 'approved' | 'rejected' | null;
  comment: string;
  /** The fake's clock, ms. */
  at: number;
}

/** A deployment protection rule GitHub asks about: the job of `runId` waits for `environment`. */
export interface ProtectionRequest {
  repository: string;
  runId: string;
  environment: string;
  /** The event that started the run; default `push`. */
  event?: string;
  sha?: string;
  ref?: string;
}

/** A workflow file of a repository that can be dispatched. */
export interface FakeWorkflow {
  repository: string;
  /** The path, e.g. `.github/workflows/deploy.yml`; a dispatch names its file name or the path. */
  file: string;
  /** The declared `workflow_dispatch` inputs; a required one must be given. */
  inputs: Record<string, { required?: boolean }>;
  /** The branches and tags it can run on; default `main`. */
  refs?: string[];
}

/** A workflow dispatch GitHub accepted: the run it started. */
export interface WorkflowDispatch {
  repository: string;
  /** The workflow's path. */
  workflow: string;
  ref: string;
  inputs: Record<string, string>;
  returnRunDetails: boolean;
  /** The new run's id (numeric, as GitHub's) and page. */
  runId: string;
  htmlUrl: string;
  /** When it arrived (the fake's clock, ms). */
  at: number;
}
