/**
 * `POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches` as GitHub answers it:
 * an installation token of the App, a body GitHub's schema accepts (api.github.com, or GHES 3.19
 * which has no `return_run_details`), a registered workflow file (404 otherwise), a known ref,
 * declared inputs only; then 200 with the new run's details (or 204 without `return_run_details`).
 */
import type { AppAuthority } from './app-auth.ts';
import type { FakeWorkflow, WorkflowDispatch } from './app-types.ts';
import { checkBody } from './openapi.ts';
import type { ApiFlavour } from './openapi.ts';
import { Refusal } from './types.ts';
import type { Answer } from './types.ts';

export const WORKFLOW_DISPATCH_PATH = /^\/repos\/([^/]+\/[^/]+)\/actions\/workflows\/([^/]+)\/dispatches$/;
const SCHEMA_PATH = '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches';
const FIRST_RUN_ID = 19_000_000_000;

export interface WorkflowEndpoint {
  dispatches: WorkflowDispatch[];
  register(workflow: FakeWorkflow): void;
  onDispatch(hook: (dispatch: WorkflowDispatch) => void): void;
  /** The answer to a dispatch; throws a Refusal for one GitHub refuses. */
  handle(repository: string, workflowId: string, body: unknown, authorization: string): Answer;
}

/** The endpoint; `authority` is null when the fake has no App (every dispatch is then refused 401). */
export function workflowEndpoint(authority: AppAuthority | null, flavour: ApiFlavour, now: () => number): WorkflowEndpoint {
  const workflows: FakeWorkflow[] = [];
  const hooks: ((dispatch: WorkflowDispatch) => void)[] = [];
  const dispatches: WorkflowDispatch[] = [];
  return {
    dispatches,
    register: (workflow) => void workflows.push({ ...workflow }),
    onDispatch: (hook) => void hooks.push(hook),
    handle(repository, workflowId, body, authorization) {
      if (!authority) throw new Refusal(401, 'Bad credentials');
      authority.checkToken(authorization, repository);
      checkBody(flavour, SCHEMA_PATH, 'POST', body);
      const request = body as { ref: string; inputs?: Record<string, unknown>; return_run_details?: boolean };
      const file = decodeURIComponent(workflowId);
      const workflow = workflows.find(
        (w) => w.repository.toLowerCase() === repository.toLowerCase() && (w.file === file || w.file.split('/').at(-1) === file),
      );
      if (!workflow) throw new Refusal(404, 'Not Found');
      if (!(workflow.refs ?? ['main']).includes(request.ref)) throw new Refusal(422, `No ref found for: ${request.ref}`);
      const inputs = checkInputs(workflow, request.inputs ?? {});
      const runId = String(FIRST_RUN_ID + dispatches.length + 1);
      const htmlUrl = `https://github.com/${repository}/actions/runs/${runId}`;
      const dispatch: WorkflowDispatch = { repository, workflow: workflow.file, ref: request.ref, inputs, returnRunDetails: request.return_run_details === true, runId, htmlUrl, at: now() };
      dispatches.push(dispatch);
      // After the answer is written, as the new run starts after GitHub answered.
      setImmediate(() => {
        for (const hook of hooks) {
          try {
            hook(dispatch);
          } catch (error) {
            console.error(`fake GitHub: an onDispatch hook failed: ${String(error)}`);
          }
        }
      });
      if (!dispatch.returnRunDetails) return { status: 204 };
      return { status: 200, body: { workflow_run_id: Number(runId), run_url: `https://api.github.com/repos/${repository}/actions/runs/${runId}`, html_url: htmlUrl } };
    },
  };
}

/** The inputs as the run sees them (strings); GitHub's 422 for an undeclared one or a missing required one. */
function checkInputs(workflow: FakeWorkflow, given: Record<string, unknown>): Record<string, string> {
  const unexpected = Object.keys(given).filter((name) => !(name in workflow.inputs));
  if (unexpected.length > 0) throw new Refusal(422, `Unexpected inputs provided: ${JSON.stringify(unexpected)}`);
  for (const [name, input] of Object.entries(workflow.inputs)) {
    if (input.required && (given[name] === undefined || given[name] === '')) throw new Refusal(422, `Required input '${name}' not provided`);
  }
  const inputs: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    if (typeof value === 'object' && value !== null) throw new Refusal(422, `Invalid request.\n\nFor 'properties/inputs/${name}', ${JSON.stringify(value)} is not a string.`);
    inputs[name] = String(value);
  }
  return inputs;
}
