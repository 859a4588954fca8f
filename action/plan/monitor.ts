// A webhook's hookgate-only ways of being heard: `heartbeatTimeout` (the external system must report
// that often) and `monitor` (poll a status request instead of waiting for the callback).
import type { MonitorDef, Seconds } from './plan.ts';
import { fail, location } from './fields.ts';
import type { Ctx } from './fields.ts';
import { readRequest } from './request.ts';
import type { BodyRead, TemplateField } from './request.ts';
import { DEFAULT_MONITOR_INTERVAL_SECONDS } from './schemas.ts';
import type { MonitorFields } from './schemas.ts';
import { formatDuration } from '../lib/time.ts';
import type { Path } from './yaml-locator.ts';

/** What a webhook says about how it is heard, as its schema read it. */
export interface Listening {
  disableCallback: boolean;
  timeoutSeconds: Seconds;
  heartbeatTimeout: Seconds | undefined;
  monitor: MonitorFields | null | undefined;
}

/** The monitor, its templates (which may use the call's answer) added to `templates`; null when none or invalid. */
function readMonitor(ctx: Ctx, m: MonitorFields, path: Path, readBody: (path: string) => BodyRead, templates: TemplateField[]): MonitorDef | null {
  const own: TemplateField[] = [];
  // A status request reads; unlike the call, it defaults to GET.
  const request = { ...readRequest(ctx, m, path, readBody, own), method: (m.method ?? 'GET').toUpperCase() };
  own.push({ path: [...path, 'statusPath'], text: m.statusPath, kind: 'jsonpath' });
  templates.push(...own.map((t): TemplateField => ({ ...t, monitor: true })));
  const success = [...new Set(m.success)];
  const failure = [...new Set(m.failure ?? [])];
  let valid = true;
  if (request.method === 'HEAD') {
    fail(ctx, [...path, 'method'], 'a HEAD answer has no body to read statusPath from; use GET (the default) or POST');
    valid = false;
  }
  (m.failure ?? []).forEach((value, i) => {
    if (!success.includes(value)) return;
    fail(ctx, [...path, 'failure', i], `'${value}' is also a success value; a status value can decide only one way`);
    valid = false;
  });
  if (!valid) return null;
  return { ...request, intervalSeconds: m.interval ?? DEFAULT_MONITOR_INTERVAL_SECONDS, statusPath: m.statusPath, success, failure, location: location(ctx, path) };
}

/** The webhook's heartbeat and monitor, each refused where nothing would be heard. */
export function readListening(ctx: Ctx, w: Listening, path: Path, readBody: (path: string) => BodyRead, templates: TemplateField[]): { heartbeatSeconds: Seconds | null; monitor: MonitorDef | null } {
  const heartbeat = [...path, 'heartbeatTimeout'];
  if (w.heartbeatTimeout !== undefined) {
    if (w.disableCallback) {
      fail(ctx, heartbeat, 'a webhook with disableCallback: true awaits nothing, so there is no silence to time; remove heartbeatTimeout or disableCallback', 'key');
    } else if (w.monitor) {
      fail(ctx, heartbeat, 'a monitored webhook is polled, not heard from; remove heartbeatTimeout or monitor', 'key');
    } else if (w.heartbeatTimeout > w.timeoutSeconds) {
      fail(ctx, heartbeat, `must be at most the webhook's timeout (${formatDuration(w.timeoutSeconds * 1000)}); a longer silence would never be noticed`);
    }
  }
  let monitor: MonitorDef | null = null;
  if (w.monitor) {
    if (w.disableCallback) fail(ctx, [...path, 'monitor'], "a monitor's decision is stored with the gate, which disableCallback: true does not have; remove one of them", 'key');
    monitor = readMonitor(ctx, w.monitor, [...path, 'monitor'], readBody, templates);
  }
  return { heartbeatSeconds: w.heartbeatTimeout ?? null, monitor };
}
