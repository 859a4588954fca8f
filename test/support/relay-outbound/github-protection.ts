/**
 * The relay tests' fake of GitHub's custom deployment protection rule callback (issue 12),
 * `POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule`, reached through
 * miniflare's outbound service (index.ts). It accepts only an installation token the App fake
 * (github-app.ts) minted for that repository, and a body as GitHub's API takes it:
 * `environment_name`, `state` approved|rejected, `comment` at most 1,024 characters.
 * A test scripts a repository's answers with `POST /_control/protection/script {repository, answer}`
 * (`ok` 204, `refuse` 422, `error` 500) and reads `GET /_control/protection/log?repository=`.
 */
import { githubApp, githubError, RELAY_TEST_GITHUB } from './github-app.ts';

/** GitHub's limit on a review's comment. */
const MAX_COMMENT_CHARS = 1024;

type Answer = 'ok' | 'refuse' | 'error';

/** One review the fake accepted. */
export type ProtectionReview = { runId: string; environment: string; state: string; comment: string };

/** What the fake got for a repository: accepted reviews, and every attempt with its status. */
export type ProtectionLog = { answer: Answer; reviews: ProtectionReview[]; attempts: { runId: string; status: number }[] };

const logs = new Map<string, ProtectionLog>();

function logOf(repository: string): ProtectionLog {
  const name = repository.toLowerCase();
  let log = logs.get(name);
  if (!log) {
    log = { answer: 'ok', reviews: [], attempts: [] };
    logs.set(name, log);
  }
  return log;
}

/** The installation tokens the App fake minted for `repository` (read through its own control path). */
async function mintedTokens(repository: string): Promise<string[]> {
  const url = new URL(`${RELAY_TEST_GITHUB}/_control/log?repository=${encodeURIComponent(repository)}`);
  const res = await githubApp(new Request(url), url);
  return res ? ((await res.json()) as { tokens: string[] }).tokens : [];
}

/** The body's problem as GitHub's 422 would name it; null when it is one GitHub takes. */
function bodyProblem(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return 'the body is not a JSON object';
  const { environment_name: environment, state, comment } = body as Record<string, unknown>;
  if (typeof environment !== 'string' || environment === '') return 'environment_name is required';
  if (state !== 'approved' && state !== 'rejected') return 'state must be approved or rejected';
  if (comment !== undefined && (typeof comment !== 'string' || [...comment].length > MAX_COMMENT_CHARS)) {
    return `comment must be a string of at most ${MAX_COMMENT_CHARS} characters`;
  }
  return null;
}

async function review(request: Request, repository: string, runId: string): Promise<Response> {
  const log = logOf(repository);
  const token = /^(?:token|bearer) (\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  const answer = async (response: Response): Promise<Response> => {
    log.attempts.push({ runId, status: response.status });
    return response;
  };
  if (!token || !(await mintedTokens(repository)).includes(token)) return answer(githubError(401, 'Bad credentials'));
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return answer(githubError(400, 'Problems parsing JSON'));
  }
  const problem = bodyProblem(body);
  if (problem) return answer(githubError(422, `Invalid request.\n\n${problem}`));
  if (log.answer === 'refuse') return answer(githubError(422, 'No pending custom deployment requests to approve or reject'));
  if (log.answer === 'error') return answer(githubError(500, 'Server Error'));
  const { environment_name: environment, state, comment } = body as { environment_name: string; state: string; comment?: string };
  log.reviews.push({ runId, environment, state, comment: comment ?? '' });
  return answer(new Response(null, { status: 204 }));
}

/** The answer, or null for a request this fake does not serve. */
export async function githubProtection(request: Request, url: URL): Promise<Response | null> {
  const path = url.pathname;
  if (path === '/_control/protection/script' && request.method === 'POST') {
    const script = (await request.json()) as { repository: string; answer: Answer };
    logOf(script.repository).answer = script.answer;
    return Response.json(logOf(script.repository));
  }
  if (path === '/_control/protection/log') return Response.json(logOf(url.searchParams.get('repository') ?? ''));
  const match = /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)\/deployment_protection_rule$/.exec(path);
  if (match && request.method === 'POST') return review(request, decodeURIComponent(match[1] ?? ''), match[2] ?? '');
  return null;
}
