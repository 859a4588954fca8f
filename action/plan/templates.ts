// Template checks. A webhook's templates are checked once for everything but `{{context.*}}`; context
// keys are checked per runWebhook step, because a step's own context is part of what its call has
// (step over file over input, SPEC §2), and a key only a sibling step sets fails at run time.
import { fail, suggest } from './fields.ts';
import type { Ctx } from './fields.ts';
import type { WebhookRef } from './steps.ts';
import type { ParsedWebhook, TemplateField } from './webhooks.ts';
import { BUILTIN_NAMES, isKnownName, parseTemplate } from './template.ts';
import { formatPath } from './yaml-locator.ts';

const CONTEXT_PREFIX = 'context.';
const NO_CONTEXT_KEYS: ReadonlySet<string> = new Set();

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

function unknownVariable(name: string, secretNames: ReadonlySet<string>): string {
  const head = `unknown template variable {{${name}}}`;
  if (name.startsWith('secrets.')) {
    const key = name.slice('secrets.'.length);
    return `${head}: the secrets input has no '${key}'${suggest(key, secretNames)}`;
  }
  const hint = suggest(name, BUILTIN_NAMES);
  return hint === '' ? `${head}; use armory.*, hookgate.*, github.*, context.<key> or secrets.<name>` : `${head}${hint}`;
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
    fail(ctx, field.path, unknownVariable(only.name, secretNames));
  }
}

/** Checks one webhook's templates except context keys; returns each context key with the fields that use it. */
function checkWebhook(ctx: Ctx, webhook: ParsedWebhook, secretNames: ReadonlySet<string>): Map<string, string[]> {
  const contextUses = new Map<string, string[]>();
  for (const field of webhook.templates) {
    if (field.kind === 'secret') {
      checkSigningSecret(ctx, field, secretNames);
      continue;
    }
    const from = field.source === undefined ? '' : `in ${field.source}: `;
    const parsed = parseTemplate(field.text);
    if (!parsed.ok) {
      fail(ctx, field.path, `${from}${parsed.error.message}`);
      continue;
    }
    const fieldName = `${formatPath(field.path.slice(webhook.path.length))}${field.source === undefined ? '' : ` (${field.source})`}`;
    for (const variable of parsed.names) {
      if (variable.startsWith(CONTEXT_PREFIX)) {
        const key = variable.slice(CONTEXT_PREFIX.length);
        contextUses.set(key, [...(contextUses.get(key) ?? []), fieldName]);
      } else if (!isKnownName(variable, { secretNames, contextKeys: NO_CONTEXT_KEYS })) {
        fail(ctx, field.path, from + unknownVariable(variable, secretNames));
      }
    }
    const first = parsed.parts[0];
    if (field.kind === 'uri' && first?.kind === 'text' && !isHttpUrlStart(first.text, parsed.parts.length === 1)) {
      fail(ctx, field.path, 'expected an http:// or https:// URL');
    }
  }
  return contextUses;
}

function listed(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`;
}

/** Reports, at the step, each context key its webhook uses that neither the step, the file nor the input sets. */
function checkUse(ctx: Ctx, ref: WebhookRef, contextUses: ReadonlyMap<string, readonly string[]>, baseContextKeys: ReadonlySet<string>): void {
  const stepKeys = new Set(ref.contextKeys);
  for (const [key, fields] of contextUses) {
    if (stepKeys.has(key) || baseContextKeys.has(key)) continue;
    const hint = suggest(key, [...stepKeys, ...baseContextKeys]);
    fail(ctx, ref.path, `webhook '${ref.name}' uses {{context.${key}}} in ${listed(fields)}, but neither this step's context, the file's context nor the context input sets ${key}${hint}`, 'key');
  }
}

/**
 * Checks every webhook's templates, and for each runWebhook step the context keys its webhook uses.
 * An unused webhook's context keys are not checked: no call of it exists whose context could be known.
 */
export function checkTemplates(ctx: Ctx, webhooks: ReadonlyMap<string, ParsedWebhook>, refs: readonly WebhookRef[], baseContextKeys: ReadonlySet<string>, secretNames: ReadonlySet<string>): void {
  const uses = Map.groupBy(refs, (ref) => ref.name);
  for (const [name, webhook] of webhooks) {
    const contextUses = checkWebhook(ctx, webhook, secretNames);
    for (const ref of uses.get(name) ?? []) checkUse(ctx, ref, contextUses, baseContextKeys);
  }
}
