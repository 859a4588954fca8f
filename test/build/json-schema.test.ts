/**
 * dist/deploy.schema.json: fresh, a valid draft-07 schema with a hover text on every field, and in
 * step with the loader — every deployment file of the repository the loader accepts, the schema
 * accepts; files the loader refuses for their structure, the schema refuses too.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { AnySecretName } from '../../action/cli/validate.ts';
import { formatFileError, loadDeploymentFile } from '../../action/plan/load.ts';
import type { LoadResult } from '../../action/plan/load.ts';
import { deploymentJsonSchema, deploymentJsonSchemaText, SCHEMA_FILE } from '../../scripts/json-schema.ts';
import { ROOT } from '../../scripts/local-relay.ts';
import { dedent } from '../action/plan/helpers.ts';
import { deployFiles } from './deploy-files.ts';

const schema = deploymentJsonSchema();
// Editor-only keywords (VS Code's), which a validator need not know.
const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false }).addKeyword('markdownDescription').addKeyword('defaultSnippets').addKeyword('patternErrorMessage');
const validate = ajv.compile(schema);

function loaderSays(text: string): LoadResult {
  return loadDeploymentFile({ file: 'deploy.yml', text, secretNames: new AnySecretName(), inputContext: {}, defaultApplication: 'app', readFile: () => '{}' });
}

/** The file as the loader reads it (merge keys resolved), or undefined for YAML that does not parse. */
function asJson(text: string): unknown {
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, logLevel: 'silent' });
  return doc.errors.length > 0 ? undefined : doc.toJS({ maxAliasCount: 10_000 });
}

const schemaErrors = (errors: ErrorObject[] | null | undefined): string => (errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`).join('; ');

describe('dist/deploy.schema.json', () => {
  it(`is fresh: the committed file is what scripts/json-schema.ts writes (run npm run build:cli)`, async () => {
    const committed = await readFile(join(ROOT, 'dist', SCHEMA_FILE), 'utf8');
    expect(committed).toBe(deploymentJsonSchemaText());
  });

  it('is draft-07, the newest draft yaml-language-server reads, and self-contained', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const refs = [...deploymentJsonSchemaText().matchAll(/"\$ref": "([^"]*)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((ref) => !ref?.startsWith('#/definitions/'))).toEqual([]);
  });

  it('explains every field on hover, in plain text and in Markdown', () => {
    const missing: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const properties = (node as { properties?: Record<string, Record<string, unknown>> }).properties;
      for (const [name, field] of Object.entries(properties ?? {})) {
        if (typeof field.description !== 'string' || typeof field.markdownDescription !== 'string') missing.push(`${path}.${name}`);
      }
      for (const [key, child] of Object.entries(node)) walk(child, `${path}/${key}`);
    };
    walk(schema, '#');
    expect(missing).toEqual([]);
  });
});

describe('the schema and the loader agree', () => {
  const files = deployFiles(ROOT);

  it('accepts every deployment file of the repository that the loader accepts', () => {
    const accepted = files.filter((file) => loaderSays(file.text).ok);
    // Examples, fixtures, and the inline files of the loader's and the end-to-end tests.
    expect(accepted.length).toBeGreaterThan(40);
    expect(accepted.some((f) => f.source.startsWith('test/e2e/'))).toBe(true);
    expect(accepted.some((f) => f.source === 'test/fixtures/armory/potato-facts.yml')).toBe(true);
    const refused = accepted.filter((file) => !validate(asJson(file.text))).map((file) => `${file.source}: ${schemaErrors(validate.errors)}`);
    expect(refused).toEqual([]);
  });

  // Each refused by the loader for its structure: an unknown field, a wrong type, a value out of range.
  const STRUCTURE: [string, string][] = [
    ['an unknown top-level field', 'target: {}\ntargets: { a: {} }'],
    ['targets as a list', 'targets: [a, b]'],
    ['no targets at all', 'targets: {}'],
    ['version v2', 'version: v2\ntargets: { a: {} }'],
    ['an unknown target field', 'targets: { a: { strategys: x } }'],
    ['an unknown constraint', 'targets: { a: { constraints: { dependsOnn: [b] } } }'],
    ['a number in dependsOn', 'targets: { a: { constraints: { dependsOn: [1] } } }'],
    ['a command that is not text', 'commands: { deploy: [a, b] }\ntargets: { a: {} }'],
    ['an unknown command', 'commands: { deplo: ./d.sh }\ntargets: { a: {} }'],
    ['a step of two kinds', 'targets: { a: { constraints: { beforeDeployment: [{ pause: { duration: 1, unit: seconds }, runWebhook: { name: x } }] } } }'],
    ['setWeight outside a canary', 'targets: { a: { constraints: { beforeDeployment: [{ setWeight: { weight: 5 } }] } } }'],
    ['an analysis step', 'targets: { a: { strategy: c } }\nstrategies: { c: { canary: { steps: [{ analysis: {} }] } } }'],
    ['a weight over 100', 'targets: { a: { strategy: c } }\nstrategies: { c: { canary: { steps: [{ setWeight: { weight: 150 } }] } } }'],
    ['a strategy of both kinds', 'targets: { a: { strategy: c } }\nstrategies: { c: { canary: {}, blueGreen: {} } }'],
    ['an unknown blueGreen field', 'targets: { a: { strategy: c } }\nstrategies: { c: { blueGreen: { x: 1 } } }'],
    ['a pause in days', 'targets: { a: { constraints: { beforeDeployment: [{ pause: { duration: 1, unit: days } }] } } }'],
    ['a pause without a unit', 'targets: { a: { constraints: { beforeDeployment: [{ pause: { duration: 1 } }] } } }'],
    ['a pause with unit and units', 'targets: { a: { constraints: { beforeDeployment: [{ pause: { duration: 1, unit: seconds, units: seconds } }] } } }'],
    ['a timed pause with approval fields', 'targets: { a: { constraints: { beforeDeployment: [{ pause: { duration: 1, unit: seconds, minimumApprovals: 2 } }] } } }'],
    ['a pause both timed and approved', 'targets: { a: { constraints: { beforeDeployment: [{ pause: { duration: 1, unit: seconds, untilApproved: true } }] } } }'],
    ['untilApproved: false', 'targets: { a: { constraints: { beforeDeployment: [{ pause: { untilApproved: false } }] } } }'],
    ['an unknown pause field', 'targets: { a: { constraints: { beforeDeployment: [{ pause: { untilApproved: true, approvers: [x] } }] } } }'],
    ['minimumApprovals 0', 'targets: { a: { constraints: { beforeDeployment: [{ pause: { untilApproved: true, minimumApprovals: 0 } }] } } }'],
    ['a role entry that is not a login or team', 'roles: { r: ["not a login"] }\ntargets: { a: {} }'],
    ['an empty role', 'roles: { r: [] }\ntargets: { a: {} }'],
    ['an unknown runWebhook field', 'targets: { a: { constraints: { beforeDeployment: [{ runWebhook: { name: W, ctx: {} } }] } } }'],
    ['webhooks as a map', 'targets: { a: {} }\nwebhooks: { W: { uriTemplate: "https://x" } }'],
    ['an unknown webhook field', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", retries: 3 }]'],
    ['a webhook without uriTemplate', 'targets: { a: {} }\nwebhooks: [{ name: W }]'],
    ['retryCount as text', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", retryCount: "3" }]'],
    ['retryCount 11', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", retryCount: 11 }]'],
    ['a method with a space', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", method: "PO ST" }]'],
    ['headers as a map', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", headers: { A: b } }]'],
    ['a header name with a space', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", headers: [{ key: "A b", value: c }] }]'],
    ['a body both inline and from a file', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", bodyTemplate: { inline: x, path: y } }]'],
    ['a body with neither', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", bodyTemplate: {} }]'],
    ['a timeout without a unit', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", timeout: { duration: 2 } }]'],
    ['a negative timeout', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", timeout: { duration: -2, unit: hours } }]'],
    ['signingSecret true', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", signingSecret: true }]'],
    ['a heartbeatTimeout in days', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", heartbeatTimeout: { duration: 1, unit: days } }]'],
    ['a monitor without statusPath', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", monitor: { uriTemplate: "https://x/s", success: [ok] } }]'],
    ['a monitor with no success value', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", monitor: { uriTemplate: "https://x/s", statusPath: $.s, success: [] } }]'],
    ['an unknown monitor field', 'targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", monitor: { uriTemplate: "https://x/s", statusPath: $.s, success: [ok], every: 5 } }]'],
    ['contextOverrides with a list', 'targets: { a: {} }\ncontextOverrides: { a: [x] }'],
    ['an unknown queue strategy', 'targets: { a: {} }\ndeploymentConfig: { ifDeploymentInProgress: { strategy: queue } }'],
    ['an unknown deploymentConfig field', 'targets: { a: {} }\ndeploymentConfig: { retries: 1 }'],
    ['a context value that is a map', 'context: { a: { b: c } }\ntargets: { a: {} }'],
  ];

  it.each(STRUCTURE)('refuses %s, as the loader does', (_what, text) => {
    const loaded = loaderSays(dedent(text));
    expect(loaded.ok, loaded.ok ? 'the loader accepted it' : loaded.errors.map(formatFileError).join('\n')).toBe(false);
    const json = asJson(dedent(text));
    expect(json).toBeTypeOf('object');
    expect(validate(json)).toBe(false);
  });

  /** The field names of a schema node, through $ref, allOf and anyOf. */
  function fieldsAt(node: unknown): string[] {
    if (typeof node !== 'object' || node === null) return [];
    const n = node as { properties?: object; $ref?: string; anyOf?: unknown[]; allOf?: unknown[] };
    if (n.properties) return Object.keys(n.properties);
    if (n.$ref) return fieldsAt((schema.definitions as Record<string, unknown>)[n.$ref.replace('#/definitions/', '')]);
    return [...(n.anyOf ?? []), ...(n.allOf ?? [])].flatMap(fieldsAt);
  }
  const defs = schema.definitions as Record<string, { properties: Record<string, unknown> }>;
  const top = schema.properties as Record<string, unknown>;
  const LEVELS: [string, string[], (field: string) => string][] = [
    ['top level', fieldsAt(schema).filter((f) => f !== 'targets'), (f) => `${f}: null\ntargets: { a: {} }`],
    ['target', fieldsAt(defs.Target), (f) => `targets: { a: { ${f}: null } }`],
    ['constraints', fieldsAt(defs.Target?.properties.constraints), (f) => `targets: { a: { constraints: { ${f}: null } } }`],
    ['webhook', fieldsAt(defs.Webhook), (f) => `targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", ${f}: null }]`],
    ['monitor', fieldsAt(defs.Monitor), (f) => `targets: { a: {} }\nwebhooks: [{ name: W, uriTemplate: "https://x", monitor: { uriTemplate: "https://x", statusPath: $.a, success: [a], ${f}: null } }]`],
    ['pause', fieldsAt(defs.Pause), (f) => `targets: { a: { constraints: { beforeDeployment: [{ pause: { ${f}: null } }] } } }`],
    ['blueGreen', fieldsAt((defs.Strategy as unknown as { anyOf: { properties: Record<string, unknown> }[] }).anyOf[1]?.properties.blueGreen), (f) => `targets: { a: {} }\nstrategies: { s: { blueGreen: { ${f}: null } } }`],
    ['deploymentConfig', fieldsAt(top.deploymentConfig), (f) => `targets: { a: {} }\ndeploymentConfig: { ${f}: null }`],
  ];

  it.each(LEVELS)('knows no %s field the loader does not', (_level, fields, file) => {
    expect(fields.length).toBeGreaterThan(1);
    const unknown = fields.filter((field) => {
      const loaded = loaderSays(file(field));
      return !loaded.ok && loaded.errors.some((e) => e.message.startsWith(`unknown field '${field}'`));
    });
    expect(unknown).toEqual([]);
  });

  it.each([
    ['Kubernetes fields', 'kind: kubernetes\nmanifests: [{ path: m.yml }]\ntrafficManagement: []\ntargets: { a: { account: c, namespace: n, kind: k } }'],
    ['Armory CLI fields', 'targets: { a: {} }\ntargetFilters: {}\nfiles: { m.yml: x }\ncontextOverrides: { a: { k: v } }'],
    ['deploymentConfig', 'targets: { a: {} }\ndeploymentConfig: { timeout: { duration: 1, unit: hours }, keepDeploymentObject: true, ifDeploymentInProgress: { strategy: enqueueOne } }'],
    ['a unit in any case, and units', 'targets: { a: { constraints: { afterDeployment: [{ pause: { duration: 1, unit: Minutes } }, { pause: { duration: 1, units: HOURS } }] } } }'],
    ['dependsOn as one name', 'targets: { a: {}, b: { constraints: { dependsOn: a } } }'],
  ])('accepts %s, as the loader does (with notices)', (_what, text) => {
    expect(loaderSays(text).ok).toBe(true);
    expect(validate(asJson(text)), schemaErrors(validate.errors)).toBe(true);
  });
});
