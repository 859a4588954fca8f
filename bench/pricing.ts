/**
 * Cloudflare list prices the cost figures are turned into (Workers Paid plan,
 * above the monthly allowances), as published when this bench was written:
 * - Durable Objects: $0.15 per million requests (1 million included), $12.50 per
 *   million GB-s of duration (400,000 GB-s included); duration is wall-clock time
 *   while the object is active or idle but unable to hibernate.
 *   https://developers.cloudflare.com/durable-objects/platform/pricing/
 * - An object cannot hibernate while a setTimeout is pending or a request is in
 *   progress: a held long-poll keeps it billable for its whole window.
 *   https://developers.cloudflare.com/durable-objects/concepts/durable-object-lifecycle/
 * - Workers (Standard): $0.30 per million requests (10 million included) and CPU
 *   time only, never the time spent waiting on I/O (such as a Durable Object).
 *   https://developers.cloudflare.com/workflows/reference/pricing/ ("identical to Workers Standard pricing")
 *   https://blog.cloudflare.com/workers-pricing-scale-to-zero/
 */

export const PRICES = {
  workerRequestPerMillion: 0.3,
  durableObjectRequestPerMillion: 0.15,
  durableObjectGbSecondPerMillion: 12.5,
  /** Durable Objects are billed at 128 MB each; Cloudflare's own examples use 128 MB / 1 GB = 0.128. */
  durableObjectGb: 0.128,
} as const;

export const PRICE_SOURCES = [
  'https://developers.cloudflare.com/durable-objects/platform/pricing/',
  'https://developers.cloudflare.com/durable-objects/concepts/durable-object-lifecycle/',
  'https://developers.cloudflare.com/workflows/reference/pricing/',
  'https://blog.cloudflare.com/workers-pricing-scale-to-zero/',
] as const;

export interface HourlyBill {
  workerRequests: number;
  durableObjectRequests: number;
  /** GB-s of Durable Object duration per hour. */
  gbSeconds: number;
  dollars: number;
}

/**
 * One waiting gate's hour in billing terms. Each GET is one Worker request and
 * one Durable Object RPC (a billed request). `billedSeconds`: how long the
 * object is billable — the whole hour for long-polls (always a pending
 * setTimeout), only the request handling for a 0-wait poller.
 */
export function hourlyBill(requestsPerHour: number, billedSeconds: number): HourlyBill {
  const gbSeconds = billedSeconds * PRICES.durableObjectGb;
  const dollars =
    (requestsPerHour * (PRICES.workerRequestPerMillion + PRICES.durableObjectRequestPerMillion)) / 1e6 +
    (gbSeconds * PRICES.durableObjectGbSecondPerMillion) / 1e6;
  return { workerRequests: requestsPerHour, durableObjectRequests: requestsPerHour, gbSeconds, dollars };
}
