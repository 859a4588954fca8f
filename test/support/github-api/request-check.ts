/** GitHub's checks of a REST request's form: headers, and body fields by the endpoint's schema. */
import { Refusal } from './types.ts';
import type { RecordedRequest } from './types.ts';

const API_VERSIONS = ['2022-11-28', '2026-03-10'];

/**
 * Throws GitHub's refusal when the headers (token, User-Agent, Accept, API version, content type) would
 * not do; a `token` of null leaves the credentials to the endpoint (the App's JWT, installation tokens).
 * `anyAccept`: no Accept header, or the any-type one plain fetch sends, will do too, as GitHub takes them.
 */
export function checkHeaders(record: RecordedRequest, token: string | null, anyAccept = false): void {
  const { authorization, accept, contentType, apiVersion, userAgent } = record.headers;
  if (!authorization) throw new Refusal(401, 'Requires authentication');
  if (token !== null && /^(?:Bearer|token)\s+(.+)$/i.exec(authorization)?.[1] !== token) throw new Refusal(401, 'Bad credentials');
  // GitHub refuses a request without a User-Agent.
  if (!userAgent) throw new Refusal(403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header');
  // A preview media type too (@octokit/auth-app asks for `machine-man-preview` on access_tokens).
  if (!(anyAccept && (accept === '' || accept === '*/*')) && !/^application\/(?:vnd\.github(?:\.v3|\.[a-z-]+-preview)?\+json|json)$/.test(accept)) throw new Refusal(415, `Unsupported 'Accept' header: '${accept}'`);
  if (apiVersion && !API_VERSIONS.includes(apiVersion)) throw new Refusal(400, `API version '${apiVersion}' is not supported.`);
  if (record.method === 'POST' && record.body !== null && !/^application\/json\b/.test(contentType)) throw new Refusal(415, 'Unsupported Media Type: a JSON body is expected');
  if (record.method === 'GET' && record.body !== null) throw new Refusal(400, 'A GET request takes no body');
}

type FieldType = 'string' | 'string?' | 'boolean' | 'strings' | 'payload';

/** GitHub's body parameters of "Create a deployment". */
export const CREATE_FIELDS: Record<string, FieldType> = {
  ref: 'string',
  task: 'string',
  auto_merge: 'boolean',
  required_contexts: 'strings',
  payload: 'payload',
  environment: 'string',
  description: 'string?',
  transient_environment: 'boolean',
  production_environment: 'boolean',
};

/** GitHub's body parameters of "Create a deployment status". */
export const STATUS_FIELDS: Record<string, FieldType> = {
  state: 'string',
  target_url: 'string',
  log_url: 'string',
  description: 'string',
  environment: 'string',
  environment_url: 'string',
  auto_inactive: 'boolean',
};

/** The body as an object of known fields of the right types; GitHub's 422 otherwise. */
export function fields(body: unknown, schema: Record<string, FieldType>): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Refusal(422, 'Invalid request.\n\nInvalid input: object is expected.');
  const record = body as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    const type = schema[key];
    if (!type) throw new Refusal(422, `Invalid request.\n\n"${key}" is not a permitted key.`);
    const ok = {
      string: typeof value === 'string',
      'string?': typeof value === 'string' || value === null,
      boolean: typeof value === 'boolean',
      strings: Array.isArray(value) && value.every((v) => typeof v === 'string'),
      payload: typeof value === 'string' || (typeof value === 'object' && value !== null && !Array.isArray(value)),
    }[type];
    if (!ok) throw new Refusal(422, `Invalid request.\n\nFor 'properties/${key}', ${JSON.stringify(value)} is not a ${type === 'strings' ? 'array of strings' : type}.`);
  }
  return record;
}
