/**
 * Delivers a webhook to the relay as GitHub delivers an App's: a JSON body signed with the
 * webhook secret (`X-Hub-Signature-256: sha256=<HMAC>` by @octokit/webhooks-methods' `sign`, as
 * GitHub computes it), `X-GitHub-Event`, `X-GitHub-Delivery` (a GUID), and GitHub-Hookshot's
 * other headers. `signature` plays a forger: another secret's, a made-up one, or none.
 */
import { randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';

export interface Delivery {
  /** The relay's `POST /github/webhook`, or any URL. */
  url: string;
  /** The App's webhook secret. */
  secret: string;
  /** `X-GitHub-Event`: `deployment_protection_rule`, `ping`, … */
  event: string;
  payload: unknown;
  /** `signed` (default), signed with another secret, a literal header value, or no header at all. */
  signature?: 'signed' | { otherSecret: string } | { header: string } | 'none';
  /** `X-GitHub-Hook-Installation-Target-ID`: the App's id. */
  appId?: string;
}

export interface DeliveryAnswer {
  status: number;
  body: string;
  /** The delivery's GUID. */
  delivery: string;
}

/** Sends one delivery; resolves with the relay's answer. */
export async function deliverWebhook(delivery: Delivery): Promise<DeliveryAnswer> {
  const body = JSON.stringify(delivery.payload);
  const how = delivery.signature ?? 'signed';
  const id = randomUUID();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/7f3e1c9',
    'x-github-event': delivery.event,
    'x-github-delivery': id,
    'x-github-hook-id': '481516',
    'x-github-hook-installation-target-type': 'integration',
    'x-github-hook-installation-target-id': delivery.appId ?? '424242',
  };
  if (how === 'signed') headers['x-hub-signature-256'] = await sign(delivery.secret, body);
  else if (how !== 'none' && 'otherSecret' in how) headers['x-hub-signature-256'] = await sign(how.otherSecret, body);
  else if (how !== 'none') headers['x-hub-signature-256'] = how.header;
  const answer = await fetch(delivery.url, { method: 'POST', headers, body, redirect: 'manual' });
  return { status: answer.status, body: await answer.text(), delivery: id };
}
