/**
 * The action's parking routes (SPEC §9, shared/park.ts): the journal, park, resume and unpark,
 * and the run view. Same credential as the other action routes; the run object decides.
 */
import { Hono } from 'hono';
import { JournalRequest, MAX_JOURNAL_BODY_BYTES, ParkRequest, ResumeRequest, UnparkRequest } from '../../shared/park.ts';
import type { JournalResponse, ResumeTarget, UnparkResponse } from '../../shared/park.ts';
import type { Principal } from '../run/principal.ts';
import { requireAction, runQuery } from './action-routes.ts';
import { repositoryAllowed } from './auth.ts';
import type { RelayConfig } from './config.ts';
import type { Env } from './env.ts';
import { runObject } from './env.ts';
import { httpError, readJson } from './http.ts';
import { notYourRun, parkingRefusal } from './statuses.ts';

export const parkRoutes = new Hono<{ Bindings: Env }>();

/**
 * Who may have the relay dispatch where: a job's OIDC token only into its own repository; the
 * relay token (the operator's credential) into the one it names. ALLOWED_REPOSITORIES, when
 * set, bounds both. 403 otherwise: the relay's App must not start workflows for anyone else.
 */
function checkResumeTarget(caller: Principal, config: RelayConfig, resume: ResumeTarget): void {
  const repository = resume.repository;
  if (caller.kind === 'oidc' && caller.repository.toLowerCase() !== repository.toLowerCase()) {
    throw httpError(403, 'forbidden', `resume.repository: a job of ${caller.repository} may resume workflows of its own repository only, not ${repository}`);
  }
  if (config.allowedRepositories.length > 0 && !repositoryAllowed(repository, config.allowedRepositories)) {
    throw httpError(403, 'forbidden', `resume.repository: ${repository} is not allowed on this relay (ALLOWED_REPOSITORIES)`);
  }
}

/**
 * Records a step's end, a webhook's call or a target's end; a repeat of a key answers `recorded: false`.
 * Its body may pass MAX_BODY_BYTES: a step's entry carries its decision's outputs whole (a resumed run renders them).
 */
parkRoutes.post('/v1/runs/journal', async (c) => {
  const { caller } = await requireAction(c);
  const request = await readJson(c, JournalRequest, MAX_JOURNAL_BODY_BYTES);
  const result = await runObject(c.env, request.runId).journal(caller, request);
  if (!result.ok) throw parkingRefusal(request.runId, result);
  return c.json({ recorded: result.recorded } satisfies JournalResponse);
});

/** The job stops waiting on its runner: the relay resumes the deployment once what it waits for is final. */
parkRoutes.post('/v1/runs/park', async (c) => {
  const { caller, config } = await requireAction(c);
  const request = await readJson(c, ParkRequest);
  checkResumeTarget(caller, config, request.resume);
  const result = await runObject(c.env, request.runId).park(caller, request);
  if (!result.ok) throw parkingRefusal(request.runId, result);
  return c.json(result.park);
});

/** A job at start: does it continue a parked attempt? */
parkRoutes.post('/v1/runs/resume', async (c) => {
  const { caller } = await requireAction(c);
  const request = await readJson(c, ResumeRequest);
  const result = await runObject(c.env, request.runId).resume(caller, request);
  if (!result.ok) throw notYourRun(request.runId);
  return c.json(result.resume);
});

/** A job that continued (or parked) ended without parking again: its park is closed. */
parkRoutes.post('/v1/runs/unpark', async (c) => {
  const { caller } = await requireAction(c);
  const request = await readJson(c, UnparkRequest);
  const result = await runObject(c.env, request.runId).unpark(caller, request);
  if (!result.ok) throw parkingRefusal(request.runId, result);
  return c.json({ job: result.job, state: result.state } satisfies UnparkResponse);
});

/** The run view: its parks, its latest resume dispatch and its target records. */
parkRoutes.get('/v1/runs', async (c) => {
  const { caller } = await requireAction(c);
  const runId = runQuery(c);
  const result = await runObject(c.env, runId).runView(caller, runId);
  if (!result.ok) throw notYourRun(runId);
  return c.json(result.view);
});
