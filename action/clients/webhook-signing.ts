/** Standard Webhooks signatures (https://www.standardwebhooks.com) for outgoing webhook requests. */
import { createHmac, randomBytes } from 'node:crypto';

/** The headers a signed request carries; hookgate sets them, the deployment file may not. */
export const SIGNATURE_HEADERS: readonly string[] = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];

const PREFIX = 'whsec_';
// Standard, padded base64: what the reference libraries' decoders accept after whsec_.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Signs requests with one secret; holds the key out of sight of logs, JSON and util.inspect. */
export class WebhookSigner {
  readonly #key: Buffer;
  /** Where the secret came from (an input or a secret's name), for messages; never the secret. */
  readonly source: string;

  constructor(key: Buffer, source: string) {
    this.#key = key;
    this.source = source;
  }

  /** `v1,<base64 HMAC-SHA256>` over `${id}.${timestamp}.${body}`, body as the exact bytes sent. */
  sign(id: string, timestampSeconds: number, body: Uint8Array): string {
    const hmac = createHmac('sha256', this.#key).update(`${id}.${timestampSeconds}.`).update(body);
    return `v1,${hmac.digest('base64')}`;
  }

  /** The three headers for one attempt. */
  headers(id: string, timestampSeconds: number, body: Uint8Array): Record<string, string> {
    return {
      'webhook-id': id,
      'webhook-timestamp': String(timestampSeconds),
      'webhook-signature': this.sign(id, timestampSeconds, body),
    };
  }

  toJSON(): string {
    return `[signing key from ${this.source}]`;
  }
}

/**
 * A signer for a secret: `whsec_<base64>` is the standard form (the key is the decoded bytes);
 * any other text is used as its UTF-8 bytes. Throws naming `source`, never the secret.
 */
export function createSigner(secret: string, source: string): WebhookSigner {
  if (secret === '') throw new Error(`the webhook signing secret from ${source} is empty`);
  if (!secret.startsWith(PREFIX)) return new WebhookSigner(Buffer.from(secret, 'utf8'), source);
  const encoded = secret.slice(PREFIX.length);
  if (encoded === '') throw new Error(`the webhook signing secret from ${source} has nothing after whsec_`);
  if (!BASE64.test(encoded)) {
    throw new Error(
      `the webhook signing secret from ${source} starts with whsec_, but what follows is not standard base64 ` +
        '(A-Z a-z 0-9 + /, padded with = to a multiple of 4 characters, no spaces or line breaks), which is how ' +
        'Standard Webhooks libraries decode it; fix the secret, or use one without the whsec_ prefix (its UTF-8 bytes are then the key)',
    );
  }
  return new WebhookSigner(Buffer.from(encoded, 'base64'), source);
}

/** A fresh `webhook-id`: the same for every attempt of one message, so receivers can drop duplicates. */
export function newMessageId(): string {
  return `msg_${randomBytes(24).toString('base64url')}`;
}
