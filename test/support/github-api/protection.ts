/**
 * GitHub's custom deployment protection rule, the App's side: `protectionRuleRequested` makes a
 * rule pending and gives the `deployment_protection_rule` webhook payload GitHub would send, and
 * `POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule` takes the App's
 * review (an installation token of the repository, `deployments: write`, the body checked against
 * GitHub's OpenAPI description), answering 204 once per pending rule. The 422 for a rule that is
 * not pending (never requested, or reviewed already) is the fake's wording: GitHub does not document it.
 */
import type { AppAuthority } from './app-auth.ts';
import type { ProtectionRequest, ProtectionReview } from './app-types.ts';
import { checkBody } from './openapi.ts';
import type { ApiFlavour } from './openapi.ts';
import { Refusal } from './types.ts';
import type { Answer } from './types.ts';

export const PROTECTION_PATH = /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)\/deployment_protection_rule$/;
const SCHEMA_PATH = '/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule';

export interface ProtectionRules {
  reviews: ProtectionReview[];
  /** Makes the rule pending; the webhook payload GitHub sends the App. */
  request(request: ProtectionRequest, base: string, sender: string): Record<string, unknown>;
  /** The review endpoint; throws GitHub's refusal. */
  review(repository: string, runId: string, body: unknown, authorization: string): Answer;
}

/** The rules of the fake's App; `authority` null: no App (every review 401). */
export function protectionRules(authority: AppAuthority | null, flavour: ApiFlavour, now: () => number): ProtectionRules {
  const pending = new Set<string>();
  const key = (repository: string, runId: string, environment: string): string => JSON.stringify([repository.toLowerCase(), runId, environment]);
  const reviews: ProtectionReview[] = [];
  return {
    reviews,
    request(request, base, sender) {
      pending.add(key(request.repository, request.runId, request.environment));
      const [owner = '', name = ''] = request.repository.split('/');
      const installationId = authority?.installationOf(request.repository) ?? null;
      return {
        action: 'requested',
        environment: request.environment,
        event: request.event ?? 'push',
        sha: request.sha ?? '0123456789abcdef0123456789abcdef01234567',
        ref: request.ref ?? 'refs/heads/main',
        deployment_callback_url: `${base}/repos/${request.repository}/actions/runs/${request.runId}/deployment_protection_rule`,
        pull_requests: [],
        repository: { id: 700_001, node_id: 'R_700001', name, full_name: request.repository, private: false, owner: { login: owner, id: 9_000_001, type: 'Organization' }, html_url: `${base}/${request.repository}` },
        organization: { login: owner, id: 9_000_001, node_id: 'O_9000001' },
        ...(installationId === null ? {} : { installation: { id: installationId, node_id: `I_${installationId}` } }),
        sender: { login: sender, id: 5_999_999, type: 'User' },
      };
    },
    review(repository, runId, body, authorization) {
      if (!authority) throw new Refusal(401, 'Bad credentials');
      authority.checkToken(authorization, repository);
      authority.checkPermission('deployments', 'write');
      checkBody(flavour, SCHEMA_PATH, 'POST', body);
      const { environment_name: environment, state, comment } = body as { environment_name: string; state?: 'approved' | 'rejected'; comment?: string };
      if (!pending.delete(key(repository, runId, environment))) {
        throw new Refusal(422, `No pending deployment protection rule of this app for environment '${environment}' in run ${runId}`);
      }
      reviews.push({ repository, runId, environment, state: state ?? null, comment: comment ?? '', at: now() });
      return { status: 204 };
    },
  };
}
