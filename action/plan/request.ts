// One HTTP request of a webhook (its call, its cancelTemplate, its monitor) and the template texts it holds.
import type { RequestTemplate } from './plan.ts';
import { fail } from './fields.ts';
import type { Ctx } from './fields.ts';
import type { RequestFields } from './schemas.ts';
import { SIGNATURE_HEADERS } from '../clients/webhook-signing.ts';
import type { Path } from './yaml-locator.ts';

/** One templated text of a webhook: a URI, a header value, a body, a monitor's statusPath or the signing secret. */
export interface TemplateField {
  path: Path;
  text: string;
  /** A URI must be http(s); a statusPath a JSONPath; a signing secret `{{secrets.NAME}}` alone. */
  kind: 'uri' | 'text' | 'jsonpath' | 'secret';
  /** The file a `bodyTemplate.path` template came from. */
  source?: string;
  /** A monitor's template, which may use the call's answer (`{{response.*}}`). */
  monitor?: true;
}

export type BodyRead = { ok: true; text: string } | { ok: false; message: string };

/** One request (the call, its cancelTemplate or its monitor) with its templates added to `templates`. */
export function readRequest(ctx: Ctx, r: RequestFields, path: Path, readBody: (path: string) => BodyRead, templates: TemplateField[]): RequestTemplate {
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

