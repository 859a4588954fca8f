/**
 * Request bodies checked against GitHub's own OpenAPI description (@octokit/openapi): the body
 * schema of an operation, compiled with ajv. GitHub refuses a key its schema does not name
 * ("… is not a permitted key."), which the published schemas leave open, so the top level is closed here.
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
const validators = new Map<string, ValidateFunction>();
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

function validator(flavour: ApiFlavour, path: string, method: string): ValidateFunction {
  const key = `${flavour} ${method} ${path}`;
  let validate = validators.get(key);
  if (!validate) {
    const operation = description(flavour).paths[path]?.[method.toLowerCase()];
    if (!operation) throw new Error(`no ${method} ${path} in ${flavour}'s OpenAPI description`);
    const schema = operation.requestBody?.content?.['application/json']?.schema ?? { type: 'object' };
    validate = ajv.compile({ ...schema, additionalProperties: false });
    validators.set(key, validate);
  }
  return validate;
}

/** Throws GitHub's 422 for a body that `path`'s schema (as `flavour` describes it) refuses. */
export function checkBody(flavour: ApiFlavour, path: string, method: string, body: unknown): void {
  const validate = validator(flavour, path, method);
  if (validate(body)) return;
  throw new Refusal(422, `Invalid request.\n\n${describe(validate.errors?.[0], body)}`);
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
