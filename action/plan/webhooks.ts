// The `webhooks` list: each definition (its call, its cancelTemplate, its signing secret, its
// heartbeat and monitor) and the template texts it holds, checked later against its uses.
import { DEFAULT_GATE_TIMEOUT_SECONDS } from '../../shared/protocol.ts';
import type { WebhookDef } from './plan.ts';
import { check, fail, fieldsOf, location, notice, own } from './fields.ts';
import type { Ctx } from './fields.ts';
import { readListening } from './monitor.ts';
import { readRequest } from './request.ts';
import type { BodyRead, TemplateField } from './request.ts';
import { describe, webhookSchema } from './schemas.ts';
import { formatPath } from './yaml-locator.ts';
import type { Path } from './yaml-locator.ts';

export type { BodyRead, TemplateField } from './request.ts';

const NETWORK_FIELDS = ['networkMode', 'agentIdentifier'];
const WEBHOOK_FIELDS = ['name', 'method', 'uriTemplate', 'headers', 'bodyTemplate', 'retryCount', 'disableCallback', 'timeout', 'cancelTemplate', 'signingSecret', 'heartbeatTimeout', 'monitor', ...NETWORK_FIELDS];

export interface ParsedWebhook {
  def: WebhookDef;
  path: Path;
  templates: TemplateField[];
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
    const disableCallback = w.disableCallback ?? false;
    const timeoutSeconds = w.timeout ?? DEFAULT_GATE_TIMEOUT_SECONDS;
    const listening = readListening(ctx, { disableCallback, timeoutSeconds, heartbeatTimeout: w.heartbeatTimeout, monitor: w.monitor }, path, readBody, templates);
    webhooks.set(w.name, {
      path,
      templates,
      def: {
        name: w.name,
        ...call,
        retryCount: w.retryCount ?? 0,
        disableCallback,
        timeoutSeconds,
        cancel,
        signingSecret,
        ...listening,
        location: location(ctx, path),
      },
    });
  });
  return { webhooks, names };
}
