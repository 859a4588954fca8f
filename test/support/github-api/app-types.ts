/** What the fake's GitHub App endpoints and workflow dispatches take and record. */

/** The GitHub App the fake knows: its id and public key (the relay holds the private key). */
export interface FakeAppOptions {
  /** The App id, the JWT's `iss`. */
  id: string;
  /** The App's public key (PEM, SPKI or PKCS#1), which verifies its JWTs. */
  publicKey: string;
  /** The repositories the App is installed on (owner/name); default `acme/potato-facts`. */
  repositories?: string[];
}

/** Options of the fake beyond its token. */
export interface FakeGitHubOptions {
  app?: FakeAppOptions;
  /** GitHub Enterprise Server 3.19: request bodies are checked against its schema, which has no `return_run_details`. */
  ghes?: boolean;
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
