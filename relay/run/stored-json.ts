/**
 * Reading a JSON column back. The relay validated every such value at its border before storing it,
 * so a value that no longer reads (a schema that grew stricter, a hand-edited row) is treated as none
 * rather than failing the request that reads it.
 */
import { z } from 'zod';

/** `json` parsed and checked against `schema`; undefined for null, text that is not JSON, or a value the schema refuses. */
export function storedJson<T>(json: string | null, schema: z.ZodType<T>): T | undefined {
  if (json === null) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The strings of a stored JSON array (its other items left out); [] for anything that is not one. */
export function storedStrings(json: string): string[] {
  return (storedJson(json, z.array(z.unknown())) ?? []).filter((item): item is string => typeof item === 'string');
}
