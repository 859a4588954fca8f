/**
 * Request bodies checked against GitHub's own OpenAPI description (@octokit/openapi): the body
 * schema of an operation, compiled with ajv. GitHub refuses a key its schema does not name
 * ("… is not a permitted key."), which the published schemas leave open, so the top level is closed here
 * (each branch of a top-level `anyOf`, whose refusal is worded by the branch nearest the body's keys).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Refusal } from './types.ts';

/** api.github.com, or GitHub Enterprise Server 3.19. */
export type ApiFlavour = 'api.github.com' | 'ghes-3.19';

interface Description {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> } }>>;
}

const descriptions = new Map<ApiFlavour, Description>();
const validators = new Map<string, { validate: ValidateFunction; keys: string[] }[]>();
const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });

function description(flavour: ApiFlavour): Description {
  let found = descriptions.get(flavour);
  if (!found) {
    const file = createRequire(import.meta.url).resolve(`@octokit/openapi/generated/${flavour}.deref.json`);
    // 70 MB, read once per process; only the operations' body schemas are kept.
    found = JSON.parse(readFileSync(file, 'utf8')) as Description;
    descriptions.set(flavour, found);
  }
  return found;
}

type Schema = Record<string, unknown> & { anyOf?: Schema[]; properties?: Record<string, unknown> };

/** One validator per branch of a top-level `anyOf`, else one; each closed at the top. */
function validator(flavour: ApiFlavour, path: string, method: string): { validate: ValidateFunction; keys: string[] }[] {
  const key = `${flavour} ${method} ${path}`;
  let found = validators.get(key);
  if (!found) {
    const operation = description(flavour).paths[path]?.[method.toLowerCase()];
    if (!operation) throw new Error(`no ${method} ${path} in ${flavour}'s OpenAPI description`);
    const schema = (operation.requestBody?.content?.['application/json']?.schema ?? { type: 'object' }) as Schema;
    const branches = schema.anyOf ?? [schema];
    found = branches.map((branch) => ({ validate: ajv.compile({ ...branch, additionalProperties: false }), keys: Object.keys(branch.properties ?? {}) }));
    validators.set(key, found);
  }
  return found;
}

/** Throws GitHub's 422 for a body that `path`'s schema (as `flavour` describes it) refuses. */
export function checkBody(flavour: ApiFlavour, path: string, method: string, body: unknown): void {
  const branches = validator(flavour, path, method);
  if (branches.some(({ validate }) => validate(body))) return;
  const given = typeof body === 'object' && body !== null ? Object.keys(body) : [];
  const nearest = branches.reduce((best, branch) => (covered(branch.keys, given) > covered(best.keys, given) ? branch : best));
  nearest.validate(body);
  throw new Refusal(422, `Invalid request.\n\n${describe(nearest.validate.errors?.[0], body)}`);
}

function covered(keys: string[], given: string[]): number {
  return given.filter((k) => keys.includes(k)).length;
}

/** GitHub's wording of the first problem. */
function describe(error: ErrorObject | undefined, body: unknown): string {
  if (!error) return 'Invalid input.';
  if (error.keyword === 'additionalProperties') return `"${String(error.params.additionalProperty)}" is not a permitted key.`;
  if (error.keyword === 'required') return `"${String(error.params.missingProperty)}" wasn't supplied.`;
  const field = error.instancePath.split('/').filter(Boolean);
  let value: unknown = body;
  for (const part of field) value = (value as Record<string, unknown> | undefined)?.[part];
  return `For 'properties/${field.join('/')}', ${JSON.stringify(value) ?? 'undefined'} ${error.message ?? 'is invalid'}.`;
}

type Parameter = { name: string; in: string; schema?: { type?: string; enum?: unknown[]; format?: string } };

/** GitHub's search syntax of a date query (`created`): a time, after a comparison, or a range `a..b`. */
const DATE = '\\d{4}-\\d{2}-\\d{2}(?:T\\d{2}:\\d{2}(?::\\d{2})?(?:\\.\\d+)?(?:Z|[+-]\\d{2}:\\d{2})?)?';
const DATE_QUERY = new RegExp(`^(?:(?:>=|<=|>|<)?${DATE}|${DATE}\\.\\.${DATE})$`);

/**
 * Throws GitHub's 422 for a query that `path`'s parameters (as `flavour` describes them) do not take:
 * an integer, boolean or enum of the wrong form, a date that is not GitHub's search syntax. A name the
 * operation does not declare is refused too (GitHub ignores it): a misspelt filter would go unnoticed.
 */
export function checkQuery(flavour: ApiFlavour, path: string, method: string, query: URLSearchParams): void {
  const operation = (description(flavour).paths[path]?.[method.toLowerCase()] ?? null) as { parameters?: Parameter[] } | null;
  if (!operation) throw new Error(`no ${method} ${path} in ${flavour}'s OpenAPI description`);
  const declared = new Map((operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p.schema ?? {}]));
  for (const [name, value] of query) {
    const schema = declared.get(name);
    if (!schema) throw new Refusal(422, `Invalid request.\n\n"${name}" is not a permitted query parameter.`);
    const ok =
      schema.enum ? schema.enum.includes(value)
      : schema.type === 'integer' ? /^\d{1,19}$/.test(value)
      : schema.type === 'boolean' ? value === 'true' || value === 'false'
      : schema.format === 'date-time' ? DATE_QUERY.test(value)
      : true;
    if (!ok) throw new Refusal(422, `Invalid request.\n\nFor '${name}', ${JSON.stringify(value)} is not a valid ${schema.enum ? 'value' : (schema.format ?? schema.type ?? 'value')}.`);
  }
}
