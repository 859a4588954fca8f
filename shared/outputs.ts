/**
 * What a decision hands to later steps (SPEC §11): a callback's flat `outputs`, bounded for the
 * relay's storage and the action's templates. Re-exported by protocol.ts.
 */
import { z } from 'zod';

/** Most keys a decision's `outputs` may carry (SPEC §11). */
export const MAX_OUTPUT_KEYS = 50;
/** Most bytes a decision's `outputs` may take as JSON (SPEC §11); a callback body is 64 KiB in all. */
export const MAX_OUTPUTS_BYTES = 64 * 1024;

/**
 * A key of a decision's `outputs`: later steps read it as `{{outputs.<webhook>.<key>}}`, so it is a
 * plain name (no dots, no braces, no spaces).
 */
export const OutputKey = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/, 'must be a name of letters, digits, _ and - (at most 64, not starting with a digit or -)')
  // An object built from parsed JSON would take `__proto__` as its prototype and drop the key without a word.
  .refine((key) => key !== '__proto__', 'must not be __proto__');
/** One output value: a string, a finite number or a boolean (flat: no lists, no maps, no null). */
export const OutputValue = z.union([z.string(), z.number().refine(Number.isFinite, 'must be a finite number'), z.boolean()], {
  error: 'must be a string, a number or true/false (outputs are flat)',
});
export type OutputValue = z.infer<typeof OutputValue>;
/** What a decision hands to later steps (SPEC §11): flat, at most MAX_OUTPUT_KEYS keys and MAX_OUTPUTS_BYTES of JSON. */
export const Outputs = z
  .record(OutputKey, OutputValue)
  .refine((o) => Object.keys(o).length <= MAX_OUTPUT_KEYS, `must have at most ${MAX_OUTPUT_KEYS} keys`)
  .refine((o) => new TextEncoder().encode(JSON.stringify(o)).length <= MAX_OUTPUTS_BYTES, `must be at most ${MAX_OUTPUTS_BYTES} bytes as JSON`);
export type Outputs = z.infer<typeof Outputs>;
