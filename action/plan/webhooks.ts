// The `webhooks` list: each definition (its call, its cancelTemplate, its signing secret) and the
// template texts it holds, checked later against its uses.
import { DEFAULT_GATE_TIMEOUT_SECONDS } from '../../shared/protocol.ts';
import type { RequestTemplate, WebhookDef } from './plan.ts';
import { check, fail, fieldsOf, location, notice, own } from './fields.ts';
import type { Ctx } from './fields.ts';
import { describe, webhookSchema } from './schemas.ts';
import type { RequestFields } from './schemas.ts';
import { SIGNATURE_HEADERS } from '../clients/webhook-signing.ts';
import { formatPath } from './yaml-locator.ts';
import type { Path } from './yaml-locator.ts';

/** One templated text of a webhook: a URI, a header value, a body or the signing secret. */
export interface TemplateField {
  path: Path;
  text: string;
  /** A URI must be http(s); a signing secret must be `{{secrets.NAME}}` alone. */
  kind: 'uri' | 'text' | 'secret';
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
const WEBHOOK_FIELDS = ['name', 'method', 'uriTemplate', 'headers', 'bodyTemplate', 'retryCount', 'disableCallback', 'timeout', 'cancelTemplate', 'signingSecret', ...NETWORK_FIELDS];

/** One request (the call or its cancelTemplate) with its templates added to `templates`. */
function readRequest(ctx: Ctx, r: RequestFields, path: Path, readBody: (path: string) => BodyRead, templates: TemplateField[]): RequestTemplate {
  templates.push({ path: [...path, 'uriTemplate'], text: r.uriTemplate, kind: 'uri' });
  const headers = (r.headers ?? []).map((h, j) => {
    if (SIGNATURE_HEADERS.includes(h.key.toLowerCase())) {
      fail(ctx, [...path, 'headers', j, 'key'], `${h.key} is set by hookgate when it signs the request (signingSecret or the webhook-signing-secret input); remove this header`);
    }
    templates.push({ path: [...path, 'headers', j, 'value'], text: h.value, kind: 'text' });
    return { key: h.key, value: h.value };
  });
  let bodyTemplate: string | null = null;
  if (r.bodyTemplate !== undefined && r.bodyTemplate !== null) {
    const { inline, path: bodyPath } = r.bodyTemplate;
    const at = [...path, 'bodyTemplate'];
    if (inline !== undefined && bodyPath !== undefined) {
      fail(ctx, at, 'give either inline or path, not both');
    } else if (inline !== undefined) {
      bodyTemplate = inline;
      templates.push({ path: [...at, 'inline'], text: inline, kind: 'text' });
    } else if (bodyPath !== undefined) {
      const read = readBody(bodyPath);
      if (read.ok) {
        bodyTemplate = read.text;
        templates.push({ path: [...at, 'path'], text: read.text, kind: 'text', source: bodyPath });
      } else {
        fail(ctx, [...at, 'path'], read.message);
      }
    } else {
      fail(ctx, at, 'needs inline (the body itself) or path (a file holding it)');
    }
  }
  return { method: (r.method ?? 'POST').toUpperCase(), uriTemplate: r.uriTemplate, headers, bodyTemplate };
}

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
    const templates: TemplateField[] = [];
    const call = readRequest(ctx, w, path, readBody, templates);
    const cancel = w.cancelTemplate ? readRequest(ctx, w.cancelTemplate, [...path, 'cancelTemplate'], readBody, templates) : null;
    const signingSecret = w.signingSecret ?? null;
    if (typeof signingSecret === 'string') templates.push({ path: [...path, 'signingSecret'], text: signingSecret, kind: 'secret' });
    webhooks.set(w.name, {
      path,
      templates,
      def: {
        name: w.name,
        ...call,
        retryCount: w.retryCount ?? 0,
        disableCallback: w.disableCallback ?? false,
        timeoutSeconds: w.timeout ?? DEFAULT_GATE_TIMEOUT_SECONDS,
        cancel,
        signingSecret,
        heartbeatSeconds: null,
        monitor: null,
        location: location(ctx, path),
      },
    });
  });
  return { webhooks, names };
}
