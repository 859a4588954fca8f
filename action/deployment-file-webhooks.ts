// The `webhooks` list: each definition and the template texts it holds, checked later against its uses.
import { DEFAULT_GATE_TIMEOUT_SECONDS } from '../shared/protocol.ts';
import type { WebhookDef } from './plan.ts';
import { check, fail, fieldsOf, location, notice, own } from './deployment-file-fields.ts';
import type { Ctx } from './deployment-file-fields.ts';
import { describe, webhookSchema } from './deployment-file-schemas.ts';
import { formatPath } from './yaml-locator.ts';
import type { Path } from './yaml-locator.ts';

/** One templated text of a webhook: the URI, a header value or the body. */
export interface TemplateField {
  path: Path;
  text: string;
  isUri: boolean;
  /** The file a `bodyTemplate.path` template came from. */
  source?: string;
}

export interface ParsedWebhook {
  def: WebhookDef;
  path: Path;
  templates: TemplateField[];
}

export type BodyRead = { ok: true; text: string } | { ok: false; message: string };

const NETWORK_FIELDS = ['networkMode', 'agentIdentifier'];
const WEBHOOK_FIELDS = ['name', 'method', 'uriTemplate', 'headers', 'bodyTemplate', 'retryCount', 'disableCallback', 'timeout', ...NETWORK_FIELDS];

/** The valid webhooks by name, and the names of all of them, so uses of an invalid one are not called undefined. */
export function readWebhooks(ctx: Ctx, value: unknown, readBody: (path: string) => BodyRead): { webhooks: Map<string, ParsedWebhook>; names: Set<string> } {
  const webhooks = new Map<string, ParsedWebhook>();
  const names = new Set<string>();
  if (value === undefined || value === null) return { webhooks, names };
  if (!Array.isArray(value)) {
    fail(ctx, ['webhooks'], `expected a list of webhooks, got ${describe(value)}`);
    return { webhooks, names };
  }
  value.forEach((item: unknown, i) => {
    const path = ['webhooks', i];
    const fields = fieldsOf(ctx, item, path, WEBHOOK_FIELDS);
    if (fields === undefined) return;
    const rawName = own(fields, 'name');
    if (typeof rawName === 'string') names.add(rawName);
    for (const key of NETWORK_FIELDS) {
      if (own(fields, key) !== undefined) notice(ctx, key, [...path, key], 'is ignored: the runner itself is inside your network');
    }
    const w = check(ctx, webhookSchema, fields, path);
    if (w === undefined) return;
    const previous = webhooks.get(w.name);
    if (previous !== undefined) {
      const at = previous.def.location;
      fail(ctx, [...path, 'name'], `webhook '${w.name}' is already defined at ${formatPath(previous.path)} (${at.file}:${at.line}:${at.col}); names must be unique`);
      return;
    }
    const templates: TemplateField[] = [{ path: [...path, 'uriTemplate'], text: w.uriTemplate, isUri: true }];
    const headers = (w.headers ?? []).map((h, j) => {
      templates.push({ path: [...path, 'headers', j, 'value'], text: h.value, isUri: false });
      return { key: h.key, value: h.value };
    });
    let bodyTemplate: string | null = null;
    if (w.bodyTemplate !== undefined && w.bodyTemplate !== null) {
      const { inline, path: bodyPath } = w.bodyTemplate;
      const at = [...path, 'bodyTemplate'];
      if (inline !== undefined && bodyPath !== undefined) {
        fail(ctx, at, 'give either inline or path, not both');
      } else if (inline !== undefined) {
        bodyTemplate = inline;
        templates.push({ path: [...at, 'inline'], text: inline, isUri: false });
      } else if (bodyPath !== undefined) {
        const read = readBody(bodyPath);
        if (read.ok) {
          bodyTemplate = read.text;
          templates.push({ path: [...at, 'path'], text: read.text, isUri: false, source: bodyPath });
        } else {
          fail(ctx, [...at, 'path'], read.message);
        }
      } else {
        fail(ctx, at, 'needs inline (the body itself) or path (a file holding it)');
      }
    }
    webhooks.set(w.name, {
      path,
      templates,
      def: {
        name: w.name,
        method: (w.method ?? 'POST').toUpperCase(),
        uriTemplate: w.uriTemplate,
        headers,
        bodyTemplate,
        retryCount: w.retryCount ?? 0,
        disableCallback: w.disableCallback ?? false,
        timeoutSeconds: w.timeout ?? DEFAULT_GATE_TIMEOUT_SECONDS,
        location: location(ctx, path),
      },
    });
  });
  return { webhooks, names };
}
