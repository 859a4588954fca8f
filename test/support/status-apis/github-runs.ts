/**
 * A stand-in for GitHub's workflow runs: `POST /repos/<o>/<r>/actions/workflows/<file>/dispatches`
 * (body checked against GitHub's OpenAPI description) starts a run and, with
 * `return_run_details: true`, answers 200 `{workflow_run_id, run_url, html_url}` (else 204);
 * `GET /repos/<o>/<r>/actions/runs/<id>` shows it `queued`, then `in_progress` for
 * `inProgressPolls` reads, then `completed` with the conclusion its `inputs.outcome` asked for
 * (`success` unless given). The token is checked.
 */
import { Refusal } from '../github-api/types.ts';
import { checkBody } from '../github-api/openapi.ts';
import { jsonObject, serve } from './server.ts';
import type { Received, Reply, StandIn } from './server.ts';

export interface GitHubRunsOptions {
  token: string;
  /** Reads of a run it stays `in_progress`; default 1. */
  inProgressPolls?: number;
}

export interface FakeRun {
  id: number;
  repository: string;
  workflow: string;
  ref: string;
  inputs: Record<string, unknown>;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  reads: number;
}

export interface GitHubRuns extends StandIn {
  runs: FakeRun[];
}

const DISPATCH = /^\/repos\/([^/]+\/[^/]+)\/actions\/workflows\/([^/]+)\/dispatches$/;
const RUN = /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)$/;

export async function startGitHubRuns(options: GitHubRunsOptions): Promise<GitHubRuns> {
  const runs: FakeRun[] = [];
  let nextId = 9_000_001;

  const handle = (request: Received, base: string): Reply => {
    try {
      checkCredentials(request, options.token);
      const dispatch = DISPATCH.exec(request.path);
      if (dispatch?.[1] && dispatch[2] && request.method === 'POST') {
        const body = jsonObject(request.body);
        if (body === null) throw new Refusal(400, 'Problems parsing JSON');
        checkBody('api.github.com', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', 'POST', body);
        const inputs = (body.inputs ?? {}) as Record<string, unknown>;
        const run: FakeRun = { id: nextId++, repository: dispatch[1], workflow: decodeURIComponent(dispatch[2]), ref: String(body.ref), inputs, status: 'queued', conclusion: null, reads: 0 };
        runs.push(run);
        if (body.return_run_details !== true) return { status: 204 };
        return { status: 200, json: { workflow_run_id: run.id, run_url: `${base}/repos/${run.repository}/actions/runs/${run.id}`, html_url: htmlUrl(run) } };
      }
      const shown = RUN.exec(request.path);
      const run = runs.find((r) => shown && r.repository === shown[1] && String(r.id) === shown[2]);
      if (!run || request.method !== 'GET') throw new Refusal(404, 'Not Found');
      read(run, options.inProgressPolls ?? 1);
      return { status: 200, json: runJson(base, run) };
    } catch (error) {
      if (error instanceof Refusal) return { status: error.status, json: error.body };
      throw error;
    }
  };

  const server = await serve(handle);
  return { ...server, runs };
}

function checkCredentials(request: Received, token: string): void {
  const given = /^(?:Bearer|token)\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!request.headers.authorization) throw new Refusal(401, 'Requires authentication');
  if (given !== token) throw new Refusal(401, 'Bad credentials');
  // GitHub refuses a request without a User-Agent.
  if (!request.headers['user-agent']) throw new Refusal(403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header');
}

function read(run: FakeRun, inProgressPolls: number): void {
  run.reads += 1;
  if (run.status === 'queued') run.status = 'in_progress';
  else if (run.status === 'in_progress' && run.reads > inProgressPolls + 1) {
    run.status = 'completed';
    run.conclusion = typeof run.inputs.outcome === 'string' ? run.inputs.outcome : 'success';
  }
}

function htmlUrl(run: FakeRun): string {
  return `https://github.example/${run.repository}/actions/runs/${run.id}`;
}

/** The fields of GitHub's workflow run a status check reads. */
function runJson(base: string, run: FakeRun): Record<string, unknown> {
  return {
    id: run.id,
    name: run.workflow,
    head_branch: run.ref,
    path: `.github/workflows/${run.workflow}`,
    run_attempt: 1,
    event: 'workflow_dispatch',
    status: run.status,
    conclusion: run.conclusion,
    url: `${base}/repos/${run.repository}/actions/runs/${run.id}`,
    html_url: htmlUrl(run),
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  };
}
