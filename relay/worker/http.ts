/** Request parsing at the relay's border: bounded bodies, zod validation, JSON errors. */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { MAX_BODY_BYTES } from '../../shared/protocol.ts';

/** An error answered as JSON `{error, message}` (plus `extra` fields) with its status. */
export function httpError(
  status: ContentfulStatusCode,
  error: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): HTTPException {
  return new HTTPException(status, { message, res: Response.json({ ...extra, error, message }, { status, headers }) });
}

/** Reads at most `limit` bytes of the body (MAX_BODY_BYTES unless a route says); 413 past that, whatever Content-Length claims. */
export async function readBody(c: Context, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > limit) throw tooLarge(limit);
  const body = c.req.raw.body;
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw httpError(400, 'bad_request', 'the body is not valid UTF-8');
  }
}

/**
 * Parses the body as JSON whatever its Content-Type (curl -d sends a form type),
 * and validates it; a 400 names the first bad field. `limit`: as readBody's.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, limit = MAX_BODY_BYTES): Promise<z.infer<S>> {
  const text = await readBody(c, limit);
  let value: unknown;
  let illFormed: string | null = null;
  try {
    // JSON's \ud800 escapes can spell a lone surrogate that valid UTF-8 never can; SQLite would
    // store it mangled, so the message kept would not be the message sent. Refused, by field.
    value = JSON.parse(text, function (this: unknown, key: string, field: unknown) {
      if (illFormed === null && typeof field === 'string' && !field.isWellFormed()) illFormed = key === '' ? 'body' : key;
      return field;
    });
  } catch {
    throw httpError(400, 'bad_request', 'the body is not JSON');
  }
  if (illFormed !== null) {
    throw httpError(400, 'bad_request', `${illFormed}: contains an unpaired UTF-16 surrogate (a \\uD800–\\uDFFF escape without its pair); send well-formed Unicode`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw httpError(400, 'bad_request', describeIssues(parsed.error.issues));
  return parsed.data;
}

/**
 * "success: expected boolean, received string", "outputs.build id: must be a name of …" — field
 * paths first, so a sender knows what to fix. `prefix`: the path of the union a branch's issues are inside.
 */
function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const at = [...prefix, ...issue.path];
      if (issue.code === 'invalid_union' && issue.message === 'Invalid input') {
        const branch = closestBranch(issue.errors);
        if (branch && branch.length > 0) return describeIssues(branch, at);
      }
      // A record's bad key: what is wrong with the key, not just that it is wrong.
      const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
      return `${at.length > 0 ? at.map(String).join('.') : 'body'}: ${message}`;
    })
    .join('; ');
}

/**
 * Of a union without a message of its own (the callback body), the branch the body came closest
 * to: not one whose literal it missed (`progress: true` for a report), then the fewest issues, the
 * first on a tie (the decision, the common case).
 */
function closestBranch(branches: readonly z.core.$ZodIssue[][]): z.core.$ZodIssue[] | undefined {
  const matching = branches.filter((branch) => !branch.some((issue) => issue.code === 'invalid_value'));
  const candidates = matching.length > 0 ? matching : branches;
  return candidates.reduce<z.core.$ZodIssue[] | undefined>((best, branch) => (!best || branch.length < best.length ? branch : best), undefined);
}

function tooLarge(limit: number): HTTPException {
  return httpError(413, 'payload_too_large', `the body is larger than ${limit} bytes`);
}
