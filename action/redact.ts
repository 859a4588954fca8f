/** Replaces secret values in any text that leaves the action (logs, summary, outputs). */
export type Redact = (text: string) => string;

/** A redactor for these values; values shorter than 4 characters are not worth masking and would mangle text. */
export function createRedactor(values: Iterable<string>): Redact {
  const secrets = [...new Set([...values].filter((v) => v.length >= 4))].sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (text) => text;
  return (text) => {
    let result = text;
    for (const secret of secrets) result = result.split(secret).join('***');
    return result;
  };
}
