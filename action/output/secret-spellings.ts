/** The forms of a secret to look for in a text and in its decoded views (decoded-views.ts). */

/**
 * The secret itself; as URLs carry it (decoding cannot recover these when the secret itself holds
 * a `%XX`: fetch leaves `%` raw in a query); and its UTF-8 bytes in base64 (Basic auth, an echoed body), standard and
 * URL-safe: whole, with and without padding, and as it appears inside a longer base64 text.
 * There the encoding depends on where the secret starts within a 3-byte group, so for each of
 * the three alignments only the characters that depend on the secret's bytes alone are kept.
 */
export function secretForms(secret: string): string[] {
  const bytes = new TextEncoder().encode(secret);
  const whole = toBase64(bytes);
  const fragments = [whole, whole.replace(/=+$/, '')];
  for (const offset of [0, 1, 2]) {
    const shifted = new Uint8Array(offset + bytes.length);
    shifted.set(bytes, offset);
    const first = Math.ceil((offset * 8) / 6);
    const last = Math.floor(((offset + bytes.length) * 8) / 6);
    fragments.push(toBase64(shifted).slice(first, last));
  }
  const base64 = fragments.flatMap((fragment) => [fragment, fragment.replace(/\+/g, '-').replace(/\//g, '_')]);
  return [secret, ...urlForms(secret), ...base64];
}

/** encodeURIComponent, form encoding, and what fetch puts on the wire in a query (fewer characters escaped). */
function urlForms(secret: string): string[] {
  const forms = [encodeURIComponent(secret), new URLSearchParams({ q: secret }).toString().slice(2)];
  try {
    forms.push(new URL(`http://x/?q=${secret}`).search.slice(3));
  } catch {
    // not expressible in a URL: nothing to add
  }
  // Lower-case hex too: a secret holding `%2F` itself, lower-case encoded, decodes to no spelling of it.
  return [...forms, ...forms.map((form) => form.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()))];
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
