/**
 * A stand-in for Argo CD's application API: `POST /api/v1/applications/<app>/sync` (bearer token)
 * starts a sync operation and answers the application; `GET /api/v1/applications/<app>` shows it,
 * `status.operationState.phase` `Running` for `runningPolls` reads, then the app's scripted phase
 * (`Succeeded`, `Failed` or `Error`), with health and sync status to match.
 */
import { bearer, jsonObject, serve } from './server.ts';
import type { Received, Reply, StandIn } from './server.ts';

export type SyncPhase = 'Succeeded' | 'Failed' | 'Error';

export interface ArgoCdOptions {
  token: string;
  /** The applications and how their next sync ends. */
  apps: Record<string, SyncPhase>;
  /** Reads of an application its sync stays `Running`; default 1. */
  runningPolls?: number;
}

export interface ArgoApp {
  name: string;
  ends: SyncPhase;
  /** Syncs requested, with their bodies. */
  syncs: Record<string, unknown>[];
  phase: SyncPhase | 'Running';
  reads: number;
}

export interface ArgoCd extends StandIn {
  apps: Map<string, ArgoApp>;
}

const APP = /^\/api\/v1\/applications\/([^/]+)(\/sync)?$/;
/** The fields of Argo CD's ApplicationSyncRequest; it refuses others. */
const SYNC_FIELDS = new Set(['name', 'revision', 'dryRun', 'prune', 'strategy', 'resources', 'manifests', 'infos', 'retryStrategy', 'syncOptions', 'appNamespace', 'project', 'revisions', 'sourcePositions']);

export async function startArgoCd(options: ArgoCdOptions): Promise<ArgoCd> {
  const apps = new Map<string, ArgoApp>(Object.entries(options.apps).map(([name, ends]) => [name, { name, ends, syncs: [], phase: 'Succeeded', reads: 0 }]));

  const handle = (request: Received): Reply => {
    const match = APP.exec(request.path);
    if (!match?.[1]) return { status: 404, text: '404 page not found', headers: { 'content-type': 'text/plain; charset=utf-8' } };
    // Argo CD's gRPC gateway: code 16 is UNAUTHENTICATED, 5 NOT_FOUND, 3 INVALID_ARGUMENT.
    if (bearer(request.headers) !== options.token) return grpcError(401, 16, 'invalid session: token signature is invalid');
    const name = decodeURIComponent(match[1]);
    const app = apps.get(name);
    if (!app) return grpcError(404, 5, `applications.argoproj.io "${name}" not found`);
    if (match[2]) {
      if (request.method !== 'POST') return grpcError(405, 12, 'Method Not Allowed');
      const body = request.body.trim() === '' ? {} : jsonObject(request.body);
      if (body === null) return grpcError(400, 3, 'unexpected token; the body must be a JSON object');
      const unknown = Object.keys(body).find((key) => !SYNC_FIELDS.has(key));
      if (unknown) return grpcError(400, 3, `unknown field "${unknown}"`);
      if (app.phase === 'Running') return grpcError(400, 9, 'another operation is already in progress');
      app.syncs.push(body);
      app.phase = 'Running';
      app.reads = 0;
      return { status: 200, json: view(app) };
    }
    if (request.method !== 'GET') return grpcError(405, 12, 'Method Not Allowed');
    if (app.phase === 'Running') {
      app.reads += 1;
      if (app.reads > (options.runningPolls ?? 1)) app.phase = app.ends;
    }
    return { status: 200, json: view(app) };
  };

  const server = await serve(handle);
  return { ...server, apps };
}

function view(app: ArgoApp): Record<string, unknown> {
  const done = app.phase === 'Succeeded';
  return {
    metadata: { name: app.name, namespace: 'argocd' },
    spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc', namespace: app.name } },
    status: {
      sync: { status: done ? 'Synced' : 'OutOfSync', revision: 'c0ffee' },
      health: { status: done ? 'Healthy' : app.phase === 'Running' ? 'Progressing' : 'Degraded' },
      operationState: {
        operation: { sync: { revision: 'c0ffee' } },
        phase: app.phase,
        message: app.phase === 'Running' ? 'waiting for completion of hook batch/Job/migrate' : `sync ${app.phase.toLowerCase()}`,
        startedAt: '2026-01-01T00:00:00Z',
      },
    },
  };
}

function grpcError(status: number, code: number, message: string): Reply {
  return { status, json: { error: message, code, message } };
}
