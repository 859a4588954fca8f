/** Replaces secret values in any text that leaves the action (logs, summary, outputs, the relay, GitHub). */
import { decodedViews } from './decoded-views.ts';
import { secretForms } from './secret-spellings.ts';

export type Redact = (text: string) => string;

/** A percent, JSON or HTML escape: the decoded views may hold what the raw text hides. */
const ESCAPE = /%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|&#/;

/** Shorter values are not worth masking and would mangle text. */
const MIN_LENGTH = 4;

/**
 * A redactor for these values, also in the spellings an external system's answer may echo them
 * in: each form (secret-spellings.ts) is looked for in the text and in each of its decoded views
 * (decoded-views.ts), and the original span it was spelled in is masked. The forms are compiled
 * once into one expression of literals (no backtracking), longest first, so where two values
 * overlap the longer is masked whole.
 */
export function createRedactor(values: Iterable<string>): Redact {
  const secrets = [...new Set(values)].filter((v) => v.length >= MIN_LENGTH);
  const forms = [...new Set(secrets.flatMap(secretForms))].filter((f) => f.length >= MIN_LENGTH).sort((a, b) => b.length - a.length);
  if (forms.length === 0) return (text) => text;
  const pattern = new RegExp(forms.map((form) => form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  const anchors = anchorsOf(forms);
  return (text) => {
    if (anchors !== null && !ESCAPE.test(text) && !anchors.some((anchor) => text.includes(anchor))) return text;
    const spans: [number, number][] = [];
    for (const view of decodedViews(text)) {
      for (const match of view.text.matchAll(pattern)) {
        spans.push([view.startOf(match.index), view.endOf(match.index + match[0].length - 1)]);
      }
    }
    return spans.length === 0 ? text : mask(text, spans);
  };
}

/**
 * A cheap first look, as most texts hold no secret: an encoder that leaves letters and digits as
 * they are keeps the form's longest run of them in every spelling. A text with an escape in it
 * (ESCAPE) may spell even those as escapes (`%68%67`, `\u0068`, `&#104;`) and is always looked
 * at closely. Null (always look closely) when some form has no run long enough to tell.
 */
function anchorsOf(forms: string[]): string[] | null {
  const anchors = forms.map((form) => (form.match(/[A-Za-z0-9]+/g) ?? []).reduce((a, b) => (b.length > a.length ? b : a), ''));
  return anchors.every((anchor) => anchor.length >= 3) ? [...new Set(anchors)] : null;
}

/** `text` with each span replaced by `***`; overlapping spans become one. */
function mask(text: string, spans: [number, number][]): string {
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let result = '';
  let done = 0;
  for (const [from, to] of spans) {
    if (to <= done) continue;
    if (from < done) {
      done = to;
      continue;
    }
    result += `${text.slice(done, from)}***`;
    done = to;
  }
  return result + text.slice(done);
}

/** Redacts every string inside a JSON-shaped value (a report), before it is serialized or escaped. */
export function redactDeep<T>(value: T, redact: Redact): T {
  return JSON.parse(JSON.stringify(value), (_key, field: unknown) => (typeof field === 'string' ? redact(field) : field)) as T;
}
