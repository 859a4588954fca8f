// The zod schemas for the leaves of a deployment file; the readers handle the maps of names the user
// chose (targets, strategies), which need per-key positions and "did you mean" hints.
import { z } from 'zod';
import { truncateCodePoints } from '../../shared/text.ts';
import { MAX_GATE_TIMEOUT_SECONDS, MAX_MINIMUM_APPROVALS } from '../../shared/protocol.ts';

export type YamlMap = Record<string, unknown>;

const UNIT_SECONDS: ReadonlyMap<string, number> = new Map([
  ['second', 1], ['seconds', 1], ['minute', 60], ['minutes', 60], ['hour', 3600], ['hours', 3600],
]);
// RFC 9110 token characters.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Whether a value is a map as YAML gives it, not a list, a date or a tagged value such as !!set. */
export function isPlainMap(value: unknown): value is YamlMap {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Names a value for an error message: `the string 'x'`, `a list`, `nothing`. */
export function describe(value: unknown): string {
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object' && !isPlainMap(value)) return 'a tagged value (such as !!set or !!binary)';
  switch (typeof value) {
    case 'string':
      return `the string '${value.length > 40 ? `${truncateCodePoints(value, 40)}…` : value}'`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return String(value);
    case 'object':
      return 'a map';
    default:
      return typeof value;
  }
}

const scalarString = z
  .union([z.string(), z.number(), z.boolean()], {
    error: (iss) => (iss.input === undefined ? 'required field missing' : `expected a string, number or true/false, got ${describe(iss.input)}`),
  })
  .transform((v) => String(v));
export const contextSchema = z.record(z.string(), scalarString);
export const nonEmpty = z.string().min(1);
/** `{duration, unit}` (or `units`, any case) as seconds. */
export const durationSchema = z
  .strictObject({ duration: z.number().nonnegative(), unit: z.string().optional(), units: z.string().optional() })
  .superRefine((d, rc) => {
    const unit = d.unit ?? d.units;
    if (d.unit !== undefined && d.units !== undefined) {
      rc.addIssue({ code: 'custom', path: ['units'], message: 'give either unit or units, not both' });
    } else if (unit === undefined) {
      rc.addIssue({ code: 'custom', path: ['unit'], message: 'required field missing (seconds, minutes or hours)' });
    } else if (!UNIT_SECONDS.has(unit.toLowerCase())) {
      rc.addIssue({ code: 'custom', path: [d.unit === undefined ? 'units' : 'unit'], message: `unknown unit '${unit}'; use seconds, minutes or hours` });
    }
  })
  .transform((d) => d.duration * (UNIT_SECONDS.get((d.unit ?? d.units ?? '').toLowerCase()) ?? 1));
const positiveDuration = durationSchema.refine((s) => s > 0, 'must be longer than 0 seconds');
const timeoutSchema = positiveDuration.refine((s) => s <= MAX_GATE_TIMEOUT_SECONDS, 'must be at most 30 days (720 hours)');
const commandSchema = z.string().refine((s) => s.trim() !== '', 'must not be empty; leave the command out to skip it');
export const commandsSchema = z.strictObject({
  deploy: commandSchema.optional(),
  setWeight: commandSchema.optional(),
  redirectTraffic: commandSchema.optional(),
  shutDownOldVersion: commandSchema.optional(),
  rollback: commandSchema.optional(),
});
export const dependsOnSchema = z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(nonEmpty).nullish());
export const setWeightSchema = z.strictObject({ weight: z.int().min(0).max(100) });
export const runWebhookSchema = z.strictObject({ name: nonEmpty, context: contextSchema.nullish() });
/** Most roles one pause may require: the relay takes 20 role names per gate. */
const MAX_REQUIRED_ROLES = 20;
/** A role's name: a key of `roles:`, else a team's name in the repository owner's organization; the relay takes 100 characters. */
export const roleName = nonEmpty.max(100);
// The timed fields stay unknown here: which pause form this is decides how they are checked.
export const pauseSchema = z.strictObject({
  duration: z.unknown().optional(),
  unit: z.unknown().optional(),
  units: z.unknown().optional(),
  untilApproved: z.boolean().optional(),
  approvalExpiration: timeoutSchema.optional(),
  requiresRoles: z.array(roleName).max(MAX_REQUIRED_ROLES).optional(),
  requiresRole: z.union([roleName, z.array(roleName).max(MAX_REQUIRED_ROLES)], { error: 'expected a role name or a list of role names' }).optional(),
  minimumApprovals: z.int().min(1).max(MAX_MINIMUM_APPROVALS).optional(),
  preventSelfReview: z.boolean().optional(),
});
// The fields of one HTTP request: the call itself, and its cancelTemplate.
const requestFields = {
  method: z.string().regex(/^[A-Za-z]+$/, 'expected an HTTP method such as POST').optional(),
  uriTemplate: nonEmpty,
  headers: z.array(z.strictObject({ key: z.string().regex(HEADER_NAME, 'expected an HTTP header name'), value: scalarString })).nullish(),
  bodyTemplate: z.strictObject({ inline: z.string().optional(), path: nonEmpty.optional() }).nullish(),
};
const requestSchema = z.strictObject(requestFields);
export type RequestFields = z.infer<typeof requestSchema>;
// A literal secret is refused later, with the template checks; this message never echoes the value.
const signingSecretSchema = z.union([z.string(), z.literal(false)], {
  error: (iss) => (iss.input === undefined ? 'required field missing' : 'expected "{{secrets.NAME}}" (in quotes) or false'),
});
/** A monitor polls at most this often: an external system's status API is not a busy loop. */
export const MIN_MONITOR_INTERVAL_SECONDS = 5;
export const DEFAULT_MONITOR_INTERVAL_SECONDS = 30;
/** Most values in a monitor's success or failure list, and their length: they are stored with the gate. */
const MAX_MONITOR_VALUES = 50;
const MAX_MONITOR_VALUE_CHARS = 200;
const MAX_STATUS_PATH_CHARS = 1000;
const monitorValues = z.array(scalarString.pipe(z.string().max(MAX_MONITOR_VALUE_CHARS))).max(MAX_MONITOR_VALUES);
/** hookgate's `monitor`: a status request polled until the value at statusPath decides (SPEC §11). */
export const monitorSchema = z.strictObject({
  ...requestFields,
  interval: durationSchema
    .refine((s) => s >= MIN_MONITOR_INTERVAL_SECONDS, `must be at least ${MIN_MONITOR_INTERVAL_SECONDS} seconds`)
    .refine((s) => s <= MAX_GATE_TIMEOUT_SECONDS, 'must be at most 30 days (720 hours)')
    .optional(),
  statusPath: nonEmpty.max(MAX_STATUS_PATH_CHARS),
  success: monitorValues.min(1),
  failure: monitorValues.nullish(),
});
export type MonitorFields = z.output<typeof monitorSchema>;
export const webhookSchema = z.object({
  name: nonEmpty,
  ...requestFields,
  retryCount: z.int().min(0).max(10).optional(),
  disableCallback: z.boolean().optional(),
  timeout: timeoutSchema.optional(),
  cancelTemplate: requestSchema.nullish(),
  signingSecret: signingSecretSchema.nullish(),
  heartbeatTimeout: timeoutSchema.optional(),
  monitor: monitorSchema.nullish(),
});
/** `deploymentConfig.ifDeploymentInProgress.strategy` values (Armory's). */
export const QUEUE_STRATEGIES = ['reject', 'enqueueOne'] as const;
/** Armory's top-level `deploymentConfig`; timeout and keepDeploymentObject are Kubernetes settings, noticed and ignored. */
export const deploymentConfigSchema = z.strictObject({
  timeout: z.unknown().optional(),
  keepDeploymentObject: z.unknown().optional(),
  // The strategy is checked by the reader, which can suggest the value meant.
  ifDeploymentInProgress: z.strictObject({ strategy: z.string().nullish() }).nullish(),
});

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string', number: 'a number', int: 'a whole number', boolean: 'true or false',
  object: 'a map', record: 'a map', array: 'a list',
};

/** zod's messages in the file's terms ("expected a list, got the string 'x'"); undefined keeps zod's own. */
export function zodMessage(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'required field missing';
      if (typeof iss.input === 'number' && !Number.isFinite(iss.input)) return `expected a finite number, got ${describe(iss.input)}`;
      return `expected ${EXPECTED[iss.expected] ?? iss.expected}, got ${describe(iss.input)}`;
    case 'too_small':
      if (iss.origin === 'string') return 'must not be empty';
      if (iss.origin === 'array') return `needs at least ${iss.minimum} item(s)`;
      return `must be ${iss.inclusive === false ? 'more than' : 'at least'} ${iss.minimum}, got ${describe(iss.input)}`;
    case 'too_big':
      if (iss.origin === 'string') return `must be at most ${iss.maximum} characters`;
      if (iss.origin === 'array') return `has ${Array.isArray(iss.input) ? iss.input.length : 'too many'} items; at most ${iss.maximum}`;
      return `must be ${iss.inclusive === false ? 'less than' : 'at most'} ${iss.maximum}, got ${describe(iss.input)}`;
    default:
      return undefined;
  }
}
