/**
 * A stand-in for Jenkins' remote access API: `buildWithParameters` queues a build and answers 201
 * with the queue item in `Location` (no body), as Jenkins does; the job's `api/json` lists its
 * builds, newest first, each with the `queueId` it came from. A queued item becomes a build after
 * `queuedPolls` reads of the list, which is `building` for `buildingPolls` more, then ends with the
 * `RESULT` parameter it was queued with (SUCCESS unless given); one queued with `HOLD=1` stays in
 * the queue (a busy executor). API tokens are checked (Basic auth).
 */
import { serve } from './server.ts';
import type { Received, Reply, StandIn } from './server.ts';

export interface JenkinsOptions {
  user: string;
  apiToken: string;
  /** Reads of the builds list an item stays in the queue (not in the list); default 1. */
  queuedPolls?: number;
  /** Reads of the builds list a build stays `building` with `result: null`; default 1. */
  buildingPolls?: number;
}

export interface JenkinsBuild {
  job: string;
  queueId: number;
  /** Null while queued. */
  number: number | null;
  /** The job's parameters, from the query and a form body. */
  parameters: Record<string, string>;
  result: string | null;
  building: boolean;
  /** Reads of its job's builds list so far. */
  reads: number;
}

export interface Jenkins extends StandIn {
  builds: JenkinsBuild[];
}

const JOB = /^\/job\/([^/]+)\/(buildWithParameters|api\/json)\/?$/;

/** Starts the stand-in; each job has one older finished build (a FAILURE), so a statusPath must find its own. */
export async function startJenkins(options: JenkinsOptions): Promise<Jenkins> {
  const builds: JenkinsBuild[] = [];
  let nextQueueId = 17;
  const numbers = new Map<string, number>();
  const expected = `Basic ${Buffer.from(`${options.user}:${options.apiToken}`).toString('base64')}`;

  const handle = (request: Received, base: string): Reply => {
    const match = JOB.exec(request.path);
    if (!match?.[1]) return { status: 404, text: '<html><body>Not Found</body></html>' };
    // Jenkins answers a wrong API token with 401 and an HTML page, whatever the endpoint.
    if (request.headers.authorization !== expected) return { status: 401, text: `<html><body>Invalid password/token for user: ${options.user}</body></html>`, headers: { 'www-authenticate': 'Basic realm="Jenkins"' } };
    const job = decodeURIComponent(match[1]);
    if (!numbers.has(job)) {
      numbers.set(job, 1);
      builds.push({ job, queueId: 3, number: 1, parameters: {}, result: 'FAILURE', building: false, reads: 0 });
    }
    if (match[2] === 'buildWithParameters') {
      if (request.method !== 'POST') return { status: 405, text: 'Method Not Allowed' };
      const parameters = Object.fromEntries([...request.query, ...new URLSearchParams(formBody(request))]);
      const queueId = nextQueueId++;
      builds.push({ job, queueId, number: null, parameters, result: null, building: false, reads: 0 });
      return { status: 201, headers: { location: `${base}/queue/item/${queueId}/` } };
    }
    if (request.method !== 'GET') return { status: 405, text: 'Method Not Allowed' };
    for (const build of builds.filter((b) => b.job === job && (b.number === null || b.building))) advance(build, job);
    const list = builds
      .filter((b) => b.job === job && b.number !== null)
      .sort((a, b) => (b.number ?? 0) - (a.number ?? 0))
      .map((b) => ({ _class: 'hudson.model.FreeStyleBuild', number: b.number, queueId: b.queueId, result: b.result, building: b.building }));
    return { status: 200, json: { _class: 'hudson.model.FreeStyleProject', builds: list } };
  };

  const advance = (build: JenkinsBuild, job: string): void => {
    if (build.parameters.HOLD === '1') return;
    build.reads += 1;
    const queued = options.queuedPolls ?? 1;
    if (build.number === null && build.reads > queued) {
      const number = (numbers.get(job) ?? 0) + 1;
      numbers.set(job, number);
      build.number = number;
      build.building = true;
    }
    if (build.building && build.reads > queued + (options.buildingPolls ?? 1)) {
      build.building = false;
      build.result = build.parameters.RESULT ?? 'SUCCESS';
    }
  };

  const server = await serve(handle);
  return { ...server, builds };
}

/** Jenkins takes parameters as a form body too. */
function formBody(request: Received): string {
  return /application\/x-www-form-urlencoded/.test(request.headers['content-type'] ?? '') ? request.body : '';
}
