/**
 * What a monitor reads: the `{{response.*}}` variables from the webhook call's answer, its
 * statusPath rendered and evaluated (jsonpath-plus) against a status answer, and the verdict.
 */
import { JSONPath } from 'jsonpath-plus';
import { MAX_ANSWER_BODY_BYTES } from '../clients/webhook.ts';
import { parseTemplate, renderTemplate, RESPONSE_PREFIX } from '../plan/template.ts';

/** The webhook call's answer, as the monitor gets it. */
export interface CallAnswer {
  status: number;
  headers: Headers;
  /** Null: larger than MAX_ANSWER_BODY_BYTES (not read). */
  body: string | null;
}

type Vars = (name: string) => string | undefined;

export interface ResponseVars {
  /** The webhook's variables plus `response.*`. */
  vars: Vars;
  /** Why a `response.*` name has no value, for the gate's message. */
  why(name: string): string;
}

const RESPONSE = 'response.';
const BODY = 'response.body.';

/**
 * `{{response.location}}` (the Location header, resolved against the call's URL),
 * `{{response.locationId}}` (its last non-empty path segment) and
 * `{{response.body.<key>(.<key>|.<index>)*}}` (a string, number or boolean as text, an object or
 * list as JSON; null is no value) over `resolve`.
 */
export function responseVars(resolve: Vars, answer: CallAnswer, callUrl: string): ResponseVars {
  const location = locationOf(answer, callUrl);
  const json = answer.body === null ? undefined : parseJson(answer.body);
  const values = (name: string): { value: string } | { why: string } => {
    if (name === 'response.location' || name === 'response.locationId') {
      if ('why' in location) return location;
      return { value: name === 'response.location' ? location.url.href : lastSegment(location.url) };
    }
    if (!name.startsWith(BODY)) return { why: `there is no variable ${name} (response.location, response.locationId and response.body.<key> are)` };
    if (json === undefined) return { why: `the call's answer (HTTP ${answer.status}) is ${bodyTrouble(answer.body)}` };
    const key = name.slice(BODY.length);
    const found = walk(json, key.split('.'));
    return found === undefined ? { why: `the call's JSON answer (HTTP ${answer.status}) has no value at ${key}` } : { value: found };
  };
  return {
    vars: (name) => {
      if (!name.startsWith(RESPONSE)) return resolve(name);
      const found = values(name);
      return 'value' in found ? found.value : undefined;
    },
    why: (name) => {
      const found = values(name);
      return 'why' in found ? found.why : `${name} has a value`;
    },
  };
}

function bodyTrouble(body: string | null): string {
  if (body === null) return `larger than ${MAX_ANSWER_BODY_BYTES / 1024} KiB (the monitor reads no more of it)`;
  return body.trim() === '' ? 'empty' : 'not JSON';
}

/**
 * Why the status request may not go to `url`, or null when it may. Its origin (scheme, host, port) is
 * the file's when the text before the first `{{response.*}}` already ends the URL's host; else an
 * answer chose it, and it must be the webhook call's origin (`callUrl`) or the one that text is
 * (`https://ci.example{{response.body.path}}`): the monitor's headers (its credentials) never go
 * to a host an answer names.
 */
export function foreignOrigin(uriTemplate: string, url: string, callUrl: string, vars: Vars): string | null {
  const parsed = parseTemplate(uriTemplate);
  if (!parsed.ok) return null;
  const first = parsed.parts.findIndex((part) => part.kind === 'var' && part.name.startsWith(RESPONSE_PREFIX));
  if (first < 0) return null;
  const before = parsed.parts.slice(0, first).map((part) => (part.kind === 'text' ? part.text : (vars(part.name) ?? ''))).join('');
  // The URL parser ends a host at '/', '?', '#' and, in http(s) URLs, a backslash.
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#\\]*[/?#\\]/i.test(before.trimStart())) return null;
  const origin = URL.parse(url)?.origin ?? 'an invalid URL';
  const callOrigin = URL.parse(callUrl)?.origin;
  // The file's own text (and variables) before the answer's value, when that is an origin already: the answer may only add to its path.
  const literal = URL.parse(before.trim())?.origin;
  if ([callOrigin, literal].some((allowed) => allowed !== undefined && allowed !== 'null' && allowed === origin)) return null;
  const name = parsed.parts[first]?.kind === 'var' ? parsed.parts[first].name : 'response.*';
  return (
    `the status URL's origin ${origin} comes from {{${name}}} and is neither the webhook call's${callOrigin ? ` (${callOrigin})` : ''} nor one written at the start of monitor.uriTemplate; ` +
    `the monitor sends its headers only where the file says: write the status URL's scheme and host in monitor.uriTemplate`
  );
}

function locationOf(answer: CallAnswer, callUrl: string): { url: URL } | { why: string } {
  const header = answer.headers.get('location');
  if (header === null || header.trim() === '') return { why: `the call's answer (HTTP ${answer.status}) has no Location header` };
  try {
    return { url: new URL(header.trim(), callUrl) };
  } catch {
    return { why: `the call's answer (HTTP ${answer.status}) has a Location header that is not a URL` };
  }
}

/** `/queue/item/42/` → `42`: Jenkins' queue item, and most APIs' id of a created thing. */
function lastSegment(url: URL): string {
  return url.pathname.split('/').filter((segment) => segment !== '').at(-1) ?? '';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function walk(value: unknown, keys: string[]): string | undefined {
  let at: unknown = value;
  for (const key of keys) {
    if (Array.isArray(at)) at = /^\d+$/.test(key) ? (at as unknown[])[Number(key)] : undefined;
    else if (typeof at === 'object' && at !== null && Object.hasOwn(at, key)) at = (at as Record<string, unknown>)[key];
    else return undefined;
  }
  return at === undefined || at === null ? undefined : textOf(at);
}

/** A JSON value as the text it is compared and shown as. */
export function textOf(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A value put into statusPath: a plain token, so that no answer (a Location header, a body) can change the expression. */
const PATH_VALUE = /^[A-Za-z0-9._-]{0,200}$/;

/** statusPath with its variables; throws naming a variable without a value or with one that is not a plain token. */
export function renderStatusPath(template: string, vars: Vars): string {
  return renderTemplate(template, (name) => {
    const value = vars(name);
    if (value !== undefined && !PATH_VALUE.test(value)) {
      throw new Error(
        `{{${name}}} cannot go into statusPath: its value is not made of letters, digits, '.', '_' and '-' only (at most 200), so it could change the JSONPath expression`,
      );
    }
    return value;
  });
}

/** The status an answer shows: the first value statusPath matches. */
export type Seen = { kind: 'none' } | { kind: 'null' } | { kind: 'value'; text: string };

/** Evaluates statusPath (jsonpath-plus, its safe evaluator for filters); throws when the path itself is unusable. */
export function statusAt(json: unknown, path: string): Seen {
  const found = JSONPath({ path, json: json as object, wrap: true, eval: 'safe', ignoreEvalErrors: true }) as unknown;
  const first: unknown = Array.isArray(found) ? found[0] : undefined;
  if (first === undefined) return { kind: 'none' };
  if (first === null) return { kind: 'null' };
  return { kind: 'value', text: textOf(first) };
}

/** Whether `text` is one of `values`: compared as text, ignoring case and the spaces around. */
export function isOneOf(values: readonly string[], text: string): boolean {
  const wanted = text.trim().toLowerCase();
  return values.some((value) => value.trim().toLowerCase() === wanted);
}

/** How a status shows in the log and messages. */
export function seenText(seen: Seen): string {
  return seen.kind === 'value' ? seen.text : seen.kind === 'null' ? 'null' : '(no match)';
}
