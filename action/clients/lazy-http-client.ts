/**
 * What @actions/core gets in place of @actions/http-client (build.ts swaps it in).
 * core imports that client, which bundles undici, only for `getIDToken`; loading
 * it at start cost about 45 ms of the action's cold start (BENCHMARKS.md). This
 * stand-in keeps the two names oidc-utils uses and loads the real client on the
 * first request, so the OIDC path still works and everything else starts faster.
 */
import type * as Http from '@actions/http-client';
import type * as Auth from '@actions/http-client/lib/auth';
import type { RequestOptions, TypedResponse } from '@actions/http-client/lib/interfaces';

type Loaded = [typeof Http, typeof Auth];
let loaded: Promise<Loaded> | undefined;
const load = (): Promise<Loaded> => (loaded ??= Promise.all([import('@actions/http-client'), import('@actions/http-client/lib/auth')]));

export class BearerCredentialHandler {
  readonly token: string;
  constructor(token: string) {
    this.token = token;
  }
}

export class HttpClient {
  private readonly userAgent: string | undefined;
  private readonly handlers: BearerCredentialHandler[];
  private readonly options: RequestOptions | undefined;

  constructor(userAgent?: string, handlers: BearerCredentialHandler[] = [], options?: RequestOptions) {
    this.userAgent = userAgent;
    this.handlers = handlers;
    this.options = options;
  }

  async getJson<T>(url: string, headers?: Record<string, string>): Promise<TypedResponse<T>> {
    const [http, auth] = await load();
    const client = new http.HttpClient(this.userAgent, this.handlers.map((h) => new auth.BearerCredentialHandler(h.token)), this.options);
    return client.getJson<T>(url, headers);
  }
}
