/** Replaces secret values in any text that leaves the action (logs, summary, outputs, the relay, GitHub). */
export type Redact = (text: string) => string;

/**
 * A redactor for these values, each also in the spellings a text may carry it in: an external
 * system's error body often echoes the request, so a secret sent in a URL comes back
 * percent-encoded, and one sent in JSON comes back JSON-escaped. Values shorter than 4
 * characters are not worth masking and would mangle text.
 */
export function createRedactor(values: Iterable<string>): Redact {
  const secrets = [...new Set([...values].flatMap(spellings).filter((v) => v.length >= 4))].sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (text) => text;
  return (text) => {
    let result = text;
    for (const secret of secrets) result = result.split(secret).join('***');
    return result;
  };
}

/** Redacts every string inside a JSON-shaped value (a report), before it is serialized or escaped. */
export function redactDeep<T>(value: T, redact: Redact): T {
  return JSON.parse(JSON.stringify(value), (_key, field: unknown) => (typeof field === 'string' ? redact(field) : field)) as T;
}

/** The value as written, percent-encoded in the ways a URL carries it, and each of those JSON-escaped (an echoed URL in a JSON answer). */
function spellings(value: string): string[] {
  if (value.length === 0) return [];
  const plain = [value, encodeURIComponent(value), new URLSearchParams({ q: value }).toString().slice(2)];
  try {
    // What fetch puts on the wire for the value in a query string (fewer characters escaped).
    plain.push(new URL(`http://x/?q=${value}`).search.slice(3));
  } catch {
    // not expressible in a URL: nothing to add
  }
  return [...plain, ...plain.map((form) => JSON.stringify(form).slice(1, -1))];
}
