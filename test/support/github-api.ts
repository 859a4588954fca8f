/**
 * A local stand-in for GitHub's REST API on 127.0.0.1, as far as hookgate uses it:
 *
 * - `POST /repos/{owner}/{repo}/dispatches` (repository_dispatch, the examples'
 *   webhook), whose dispatched workflow calls back (github-api/dispatch.ts).
 * - The deployment endpoints (create, list, statuses), which check every request as
 *   GitHub does: token, user agent, `Accept`, API version, JSON body, required fields,
 *   types, unknown keys (422), description length; lists filter and page like GitHub's
 *   (github-api/request-check.ts, github-api/deployments.ts).
 * - The GitHub App's endpoints (`GET /repos/{owner}/{repo}/installation`, `POST
 *   /app/installations/{id}/access_tokens`, App JWT checked) and workflow dispatches
 *   (installation token, body checked against GitHub's OpenAPI, declared inputs), with an
 *   `onDispatch` hook for a test that plays the runner (github-api/app-auth.ts, workflows.ts).
 * - Sign in with GitHub: the OAuth web flow with PKCE (`/login/oauth/authorize`, a "Sign in as"
 *   page or a 302 for `signInAs(login)`; `/login/oauth/access_token`) and `GET /user`
 *   (github-api/oauth.ts); team membership and collaborator permission with the App's
 *   installation token (github-api/people.ts).
 * - The App's custom deployment protection rule: `protectionRuleRequested` gives the webhook
 *   payload, `deliverWebhook` sends it signed as GitHub signs it, and the App's review lands in
 *   `protectionReviews` (github-api/protection.ts, webhook-delivery.ts).
 *
 * Every request is recorded with what the fake answered; `refusals()` are the ones
 * GitHub would have refused as malformed, a bug in the caller.
 */
export { startFakeGitHub } from './github-api/server.ts';
export { deliverWebhook } from './github-api/webhook-delivery.ts';
export type { Delivery, DeliveryAnswer } from './github-api/webhook-delivery.ts';
export type {
  FakeAppOptions,
  FakeGitHubOptions,
  FakeOAuthOptions,
  FakePeople,
  FakeWorkflow,
  ProtectionRequest,
  ProtectionReview,
  RepositoryRole,
  WorkflowDispatch,
} from './github-api/app-types.ts';
export type {
  DeploymentStatusState,
  Dispatch,
  FailureRule,
  FakeDeployment,
  FakeDeploymentStatus,
  FakeGitHub,
  RecordedRequest,
  WorkflowCallback,
} from './github-api/types.ts';
