import { OutputKey } from '../../shared/protocol.ts';

export type TemplatePart = { kind: 'text'; text: string } | { kind: 'var'; name: string };

export interface TemplateSyntaxError {
  /** Offset of the offending `{{` in the template. */
  offset: number;
  message: string;
}

export type TemplateParse =
  | { ok: true; parts: TemplatePart[]; names: string[] }
  | { ok: false; error: TemplateSyntaxError };

export interface KnownNames {
  secretNames: ReadonlySet<string>;
  contextKeys: ReadonlySet<string>;
}

const CONTEXT_PREFIX = 'context.';
const SECRETS_PREFIX = 'secrets.';
export const OUTPUTS_PREFIX = 'outputs.';
export const RESPONSE_PREFIX = 'response.';
/** `{{outputs.approval.<key>}}`: the decision of an untilApproved pause earlier in the target. */
export const APPROVAL_STEP = 'approval';
export const APPROVAL_OUTPUT_KEYS: readonly string[] = ['decision', 'comment', 'approvedBy'];
/** The families of names, for hints: which ones exist and how they are written. */
export const NAME_FAMILIES = 'armory.*, hookgate.*, github.*, context.<key>, secrets.<name> or outputs.<webhook name>.<key>';
export const RESPONSE_NAMES = 'response.location, response.locationId or response.body.<key>(.<key>|.<index>)*';

/** Every template variable that exists regardless of the file, the context and the secrets. */
export const BUILTIN_NAMES: readonly string[] = [
  ...['callbackUri', 'deploymentId', 'applicationName', 'environmentName', 'accountName', 'namespace', 'replicaSetName'].flatMap(
    (field) => [`armory.${field}`, `hookgate.${field}`],
  ),
  'hookgate.approvalUrl',
  'hookgate.runUrl',
  ...['repository', 'sha', 'ref', 'runId', 'runAttempt', 'actor'].map((field) => `github.${field}`),
];
const BUILTIN_SET: ReadonlySet<string> = new Set(BUILTIN_NAMES);

// Names are anything without whitespace or braces, so `{{context.my-key}}` works while
// `{{ a b }}` and `{{{x}}}` are rejected rather than silently sent.
const NAME_PATTERN = /^[^\s{}]+$/;

/** Splits a template into text and `{{ name }}` parts; a malformed template is an error result. */
export function parseTemplate(template: string): TemplateParse {
  const parts: TemplatePart[] = [];
  const names: string[] = [];
  let at = 0;
  while (at < template.length) {
    const open = template.indexOf('{{', at);
    if (open < 0) break;
    const close = template.indexOf('}}', open + 2);
    if (close < 0) {
      return { ok: false, error: { offset: open, message: `'{{' at offset ${open} has no closing '}}'` } };
    }
    const name = template.slice(open + 2, close).trim();
    if (name === '') {
      return { ok: false, error: { offset: open, message: `'{{}}' at offset ${open} names no variable` } };
    }
    if (!NAME_PATTERN.test(name)) {
      return {
        ok: false,
        error: { offset: open, message: `'{{${template.slice(open + 2, close)}}}' at offset ${open} is not a variable name` },
      };
    }
    if (open > at) parts.push({ kind: 'text', text: template.slice(at, open) });
    parts.push({ kind: 'var', name });
    if (!names.includes(name)) names.push(name);
    at = close + 2;
  }
  if (at < template.length) parts.push({ kind: 'text', text: template.slice(at) });
  return { ok: true, parts, names };
}

/** The distinct variable names a template uses, in order; throws if the template is malformed. */
export function templateNames(template: string): string[] {
  const parsed = parseTemplate(template);
  if (!parsed.ok) throw new Error(`Malformed template: ${parsed.error.message}`);
  return parsed.names;
}

/**
 * Where a rendered template lands, for `{{outputs.*}}` values: the one kind of value from outside
 * (a callback's outputs, an approver's comment) pasted into requests. `uri`: percent-encoded
 * (a URL, a form body); `json`: escaped as inside a JSON string; `header`: refused with a line
 * break; `text`: as is. Other variables are the user's own and are never changed.
 */
export type Placement = 'uri' | 'json' | 'header' | 'text';

/**
 * Replaces every `{{ name }}`; throws naming the variable when `vars` has no value for it, or
 * when an output cannot go where it lands (a line break in a header). Without `placement`,
 * every value is pasted as is.
 */
export function renderTemplate(template: string, vars: (name: string) => string | undefined, placement?: Placement): string {
  const parsed = parseTemplate(template);
  if (!parsed.ok) throw new Error(`Malformed template: ${parsed.error.message}`);
  let out = '';
  // One pass over the parsed template: a value that itself contains `{{` is sent as is, so a
  // secret or a context value can never pull another variable into the request.
  for (const part of parsed.parts) {
    if (part.kind === 'text') {
      out += part.text;
      continue;
    }
    const value = vars(part.name);
    if (value === undefined) throw new Error(`Template variable '${part.name}' has no value`);
    out += placement !== undefined && part.name.startsWith(OUTPUTS_PREFIX) ? placeOutput(part.name, value, placement) : value;
  }
  return out;
}

/** An output's value made data where it lands: it can add no query parameter, JSON field or header. */
function placeOutput(name: string, value: string, placement: Placement): string {
  switch (placement) {
    case 'uri':
      return encodeURIComponent(value);
    case 'json':
      return JSON.stringify(value).slice(1, -1);
    case 'header':
      if (/[\r\n\0]/.test(value)) {
        throw new Error(`{{${name}}} cannot go into a header: its value holds a line break (CR or LF) or a NUL, which could add a header; use it in the body instead`);
      }
      return value;
    case 'text':
      return value;
  }
}

/**
 * How a request's body is rendered: `json` when its Content-Type says JSON (`application/json`,
 * `…+json`) or, without a Content-Type, when the template (trimmed) starts with `{` or `[` (then
 * hookgate sends it as application/json); `uri` for `application/x-www-form-urlencoded`; else `text`.
 */
export function bodyPlacement(bodyTemplate: string, headers: Readonly<Record<string, string>>): Placement {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'content-type');
  if (key === undefined) return /^\s*[[{]/.test(bodyTemplate) ? 'json' : 'text';
  const type = (headers[key] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type.endsWith('/json') || type.endsWith('+json')) return 'json';
  return type === 'application/x-www-form-urlencoded' ? 'uri' : 'text';
}

/** Whether a variable name can be given a value: a built-in, a known context key or a passed secret. */
export function isKnownName(name: string, known: KnownNames): boolean {
  if (BUILTIN_SET.has(name)) return true;
  if (name.startsWith(CONTEXT_PREFIX)) return known.contextKeys.has(name.slice(CONTEXT_PREFIX.length));
  if (name.startsWith(SECRETS_PREFIX)) return known.secretNames.has(name.slice(SECRETS_PREFIX.length));
  return false;
}

/**
 * `outputs.<step>.<key>` split at its last dot (a webhook name may hold dots, a key may not); null for
 * another name or a key that is no OutputKey. `<step>` is a webhook's name or `approval`.
 */
export function outputName(name: string): { step: string; key: string } | null {
  if (!name.startsWith(OUTPUTS_PREFIX)) return null;
  const rest = name.slice(OUTPUTS_PREFIX.length);
  const dot = rest.lastIndexOf('.');
  if (dot <= 0) return null;
  const key = rest.slice(dot + 1);
  return OutputKey.safeParse(key).success ? { step: rest.slice(0, dot), key } : null;
}

/** A value of the monitored call's answer, as a monitor's templates name it. */
export type ResponseName = { kind: 'location' } | { kind: 'locationId' } | { kind: 'body'; path: string[] };

/**
 * `response.location`, `response.locationId` (the Location header's last non-empty path segment) or
 * `response.body.<key>(.<key>|.<index>)*` (digits index a list); null for anything else.
 */
export function responseName(name: string): ResponseName | null {
  if (name === `${RESPONSE_PREFIX}location`) return { kind: 'location' };
  if (name === `${RESPONSE_PREFIX}locationId`) return { kind: 'locationId' };
  const bodyPrefix = `${RESPONSE_PREFIX}body.`;
  if (!name.startsWith(bodyPrefix)) return null;
  const path = name.slice(bodyPrefix.length).split('.');
  return path.every((segment) => segment !== '') ? { kind: 'body', path } : null;
}
