// Template checks of each webhook, once: syntax, names, URLs, the monitor's statusPath. Uses of
// `{{context.*}}` and `{{outputs.*}}` are returned, to be checked per runWebhook step (uses.ts).
import { fail, suggest } from './fields.ts';
import type { Ctx } from './fields.ts';
import type { ParsedWebhook, TemplateField } from './webhooks.ts';
import { statusPathProblem } from './status-path.ts';
import { APPROVAL_OUTPUT_KEYS, APPROVAL_STEP, BUILTIN_NAMES, isKnownName, NAME_FAMILIES, OUTPUTS_PREFIX, outputName, parseTemplate, renderTemplate, RESPONSE_NAMES, RESPONSE_PREFIX, responseName } from './template.ts';
import { formatPath } from './yaml-locator.ts';

const CONTEXT_PREFIX = 'context.';
const NO_CONTEXT_KEYS: ReadonlySet<string> = new Set();
const STAND_IN = 'x';

function isHttpUrlStart(text: string, whole: boolean): boolean {
  if (!whole) {
    const lower = text.toLowerCase();
    return /^https?:\/\//.test(lower) || 'https://'.startsWith(lower) || 'http://'.startsWith(lower);
  }
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function unknownVariable(name: string, secretNames: ReadonlySet<string>, monitor: boolean): string {
  const head = `unknown template variable {{${name}}}`;
  if (name.startsWith('secrets.')) {
    const key = name.slice('secrets.'.length);
    return `${head}: the secrets input has no '${key}'${suggest(key, secretNames)}`;
  }
  const hint = suggest(name, BUILTIN_NAMES);
  return hint === '' ? `${head}; use ${NAME_FAMILIES}${monitor ? `, or in a monitor ${RESPONSE_NAMES}` : ''}` : `${head}${hint}`;
}

const SECRET_HOWTO = 'store it as a repository secret, pass it in the secrets input (secrets: ${{ toJSON(secrets) }}) and write signingSecret: "{{secrets.NAME}}"';

/**
 * A signing secret must be `{{secrets.NAME}}` and nothing else: text written in the file would be
 * committed to git with it, and a context value is not masked in logs. Messages never echo the value.
 */
function checkSigningSecret(ctx: Ctx, field: TemplateField, secretNames: ReadonlySet<string>): void {
  const parsed = parseTemplate(field.text);
  const parts = parsed.ok ? parsed.parts : [];
  const only = parts.length === 1 ? parts[0] : undefined;
  if (field.text.trim() === '') {
    fail(ctx, field.path, 'must not be empty; write "{{secrets.NAME}}", or false to send this webhook unsigned');
  } else if (parsed.ok && parts.every((p) => p.kind === 'text')) {
    fail(ctx, field.path, `a signing secret written in the deployment file would be committed to git with it; ${SECRET_HOWTO}`);
  } else if (only?.kind !== 'var' || !only.name.startsWith('secrets.')) {
    const literal = parts.some((p) => p.kind === 'text') ? ': text around it would be committed to git as part of the secret' : '';
    fail(ctx, field.path, `must be exactly "{{secrets.NAME}}", one secret from the secrets input and nothing else${literal}`);
  } else if (!isKnownName(only.name, { secretNames, contextKeys: NO_CONTEXT_KEYS })) {
    fail(ctx, field.path, unknownVariable(only.name, secretNames, false));
  }
}

/** The names a webhook's templates may refer to beyond the built-ins: secrets, and the steps that have outputs. */
export interface Names {
  secretNames: ReadonlySet<string>;
  /** Every webhook's name, valid or not, so a use of an invalid one gets no second error. */
  webhookNames: ReadonlySet<string>;
  /** The webhooks with disableCallback: true, which have no decision and so no outputs. */
  noCallback: ReadonlySet<string>;
}

/** Where one webhook's templates use context keys and outputs, by key resp. variable, with the fields that use them. */
export interface TemplateUses {
  context: Map<string, string[]>;
  outputs: Map<string, { step: string; fields: string[] }>;
}

function addField(fields: string[], fieldName: string): void {
  if (!fields.includes(fieldName)) fields.push(fieldName);
}

/** Why an `outputs.*` name cannot be used, or undefined when only its uses remain to be checked. */
function outputProblem(variable: string, names: Names): string | undefined {
  const ref = outputName(variable);
  if (ref === null) return `{{${variable}}} is not an output: write {{outputs.<webhook name>.<key>}} or {{outputs.${APPROVAL_STEP}.<key>}}, a key being letters, digits, _ and -`;
  if (ref.step === APPROVAL_STEP) {
    return APPROVAL_OUTPUT_KEYS.includes(ref.key) ? undefined : `{{${variable}}}: an approval's outputs are ${APPROVAL_OUTPUT_KEYS.join(', ')}${suggest(ref.key, APPROVAL_OUTPUT_KEYS)}`;
  }
  if (!names.webhookNames.has(ref.step)) {
    return `{{${variable}}}: no webhook is named ${ref.step}${suggest(ref.step, [...names.webhookNames, APPROVAL_STEP])}; write {{outputs.<webhook name>.<key>}}`;
  }
  if (names.noCallback.has(ref.step)) return `{{${variable}}}: webhook ${ref.step} has disableCallback: true, so no decision and no outputs come back from it`;
  return undefined;
}

/** The problem of one variable of a field, or undefined; records context keys and outputs in `uses`. */
function checkVariable(variable: string, field: TemplateField, fieldName: string, names: Names, uses: TemplateUses): string | undefined {
  if (variable.startsWith(CONTEXT_PREFIX)) {
    const key = variable.slice(CONTEXT_PREFIX.length);
    const fields = uses.context.get(key) ?? [];
    addField(fields, fieldName);
    uses.context.set(key, fields);
    return undefined;
  }
  if (variable.startsWith(OUTPUTS_PREFIX)) {
    const problem = outputProblem(variable, names);
    const ref = outputName(variable);
    if (problem !== undefined || ref === null) return problem;
    const entry = uses.outputs.get(variable) ?? { step: ref.step, fields: [] };
    addField(entry.fields, fieldName);
    uses.outputs.set(variable, entry);
    return undefined;
  }
  if (variable.startsWith(RESPONSE_PREFIX)) {
    if (field.monitor !== true) return `{{${variable}}}: only a monitor can use the call's answer; use it in the webhook's monitor`;
    return responseName(variable) === null ? `unknown template variable {{${variable}}}; a monitor's answer is ${RESPONSE_NAMES}` : undefined;
  }
  return isKnownName(variable, { secretNames: names.secretNames, contextKeys: NO_CONTEXT_KEYS }) ? undefined : unknownVariable(variable, names.secretNames, field.monitor === true);
}

/** Checks one webhook's templates except the uses of context keys and outputs, which it returns. */
export function checkWebhook(ctx: Ctx, webhook: ParsedWebhook, names: Names): TemplateUses {
  const uses: TemplateUses = { context: new Map(), outputs: new Map() };
  for (const field of webhook.templates) {
    if (field.kind === 'secret') {
      checkSigningSecret(ctx, field, names.secretNames);
      continue;
    }
    const from = field.source === undefined ? '' : `in ${field.source}: `;
    const parsed = parseTemplate(field.text);
    if (!parsed.ok) {
      fail(ctx, field.path, `${from}${parsed.error.message}`);
      continue;
    }
    const fieldName = `${formatPath(field.path.slice(webhook.path.length))}${field.source === undefined ? '' : ` (${field.source})`}`;
    let valid = true;
    for (const variable of parsed.names) {
      const problem = checkVariable(variable, field, fieldName, names, uses);
      if (problem === undefined) continue;
      fail(ctx, field.path, from + problem);
      valid = false;
    }
    const first = parsed.parts[0];
    if (field.kind === 'uri' && first?.kind === 'text' && !isHttpUrlStart(first.text, parsed.parts.length === 1)) {
      fail(ctx, field.path, 'expected an http:// or https:// URL');
    }
    if (field.kind === 'jsonpath' && valid) {
      // A variable's value comes at run time; a plain name stands in for it, so `$.{{context.field}}` and `== '{{x}}'` both parse.
      const problem = statusPathProblem(renderTemplate(field.text, () => STAND_IN));
      if (problem !== undefined) fail(ctx, field.path, `not a usable JSONPath: ${problem}`);
    }
  }
  return uses;
}
