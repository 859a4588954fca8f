/** The action routes fuzz's cases (fuzz-api.test.ts): field choices, refused bodies, paths, waits, and what a body must get. */
import type { z } from 'zod';
import { jsonRequestBody, readJsonBody } from '../../support/fuzz-http.ts';
import type { FuzzBody } from '../../support/fuzz-http.ts';
import { randomJsonText } from '../../support/fuzz-random.ts';
import type { Rng } from '../../support/fuzz-random.ts';
import { RUN_INFO } from '../helpers.ts';

/** The status a JSON route must answer an authenticated body with: 413, 400, or what a valid one gets; `limit`: the route's body limit. */
export function expectedFor<S extends z.ZodType>(body: FuzzBody, schema: S, limit?: number): { status: 400 | 413 } | { status: 'valid'; value: z.output<S> } {
  const read = readJsonBody(body, limit);
  if (!read.ok) return { status: read.status };
  const parsed = schema.safeParse(read.value);
  return parsed.success ? { status: 'valid', value: parsed.data } : { status: 400 };
}

export const REGISTER_CHOICES: Readonly<Record<string, readonly unknown[]>> = {
  runId: ['', ' ', 'a b', 'x'.repeat(200), 'x'.repeat(201), 'ü/ü', 'acme/app/\u0000', 123, null, [], {}],
  stepKey: ['', 'k'.repeat(1000), 'k'.repeat(1001), 'ключ/🚀', 7, null],
  target: ['', 't'.repeat(200), 't'.repeat(201), 'prod🚀', 5, null, '__proto__'],
  phase: ['beforeDeployment', 'strategy', 'afterDeployment', 'foo', 'BeforeDeployment', null, 1],
  name: ['', 'n'.repeat(200), 'n'.repeat(201), '名前', null],
  timeoutSeconds: [0, -1, 1, 1.5, 2_592_000, 2_592_001, '60', null, 9_007_199_254_740_994, 1e300],
  kind: ['webhook', 'approval', 'foo', null, ''],
  attempt: [0, 1, 2, 10_000, 10_001, -1, 1.5, '1', null],
  requiresRoles: [[], ['a'], Array(21).fill('r'), ['r'.repeat(101)], [''], 'role', [1], null],
  heartbeatSeconds: [1, 300, 2_592_000, 0, -1, 1.5, 2_592_001, '60', null],
  run: [
    RUN_INFO,
    { ...RUN_INFO, runUrl: 'javascript:alert(1)' },
    { ...RUN_INFO, runUrl: 'ftp://example.com/x' },
    { ...RUN_INFO, runUrl: '' },
    { ...RUN_INFO, extra: 1 },
    { ...RUN_INFO, application: 'a'.repeat(201) },
    { ...RUN_INFO, actor: '<script>alert(1)</script>' },
    { ...RUN_INFO, graph: [{ name: 'dev' }, { name: 'prod', dependsOn: ['dev'] }] },
    { ...RUN_INFO, graph: [{ name: '<b>x</b>', dependsOn: ['<i>y</i>', 'prod'] }] },
    { ...RUN_INFO, graph: Array.from({ length: 101 }, (_, i) => ({ name: `t${i}` })) },
    { ...RUN_INFO, graph: [{ name: '', dependsOn: [] }] },
    { ...RUN_INFO, graph: [{ name: 'a', dependsOn: 'b' }] },
    { ...RUN_INFO, graph: 'dev -> prod' },
    null,
    'run',
  ],
};

export const CANCEL_CHOICES: Readonly<Record<string, readonly unknown[]>> = {
  reason: ['', 'r'.repeat(500), 'r'.repeat(501), null, 5, 'raison 🚀 \u202e\u0000'],
  gateIds: [[], ['AAAAAAAAAAAAAAAAAAAAAA'], ['bad'], 'x', Array(1001).fill('AAAAAAAAAAAAAAAAAAAAAA'), null, [null]],
  target: ['', 'staging', 't'.repeat(201), 5, null],
  runId: ['', 5, null, []],
};

export const CALLED_CHOICES: Readonly<Record<string, readonly unknown[]>> = {
  runId: ['', 5, null, [], 'x'.repeat(201)],
  gateId: ['', 'short', 'AAAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAAA!', 7, null, ['AAAAAAAAAAAAAAAAAAAAAA']],
};

export const TARGET_CHOICES: Readonly<Record<string, readonly unknown[]>> = {
  target: ['', 'staging', 't'.repeat(201), 5, null],
  attempt: [0, 1, 2, 10_001, -1, 1.5, '1', null],
  status: ['running', 'succeeded', 'failed', 'rolled-back', 'canceled', 'unknown', 'done', null, 1],
  message: ['', 'm'.repeat(2000), 'm'.repeat(2001), null, 5],
  runId: ['', 5, null, []],
};

/** A request about a guarded run that the protocol refuses for sure: wrong fields, broken body. */
export function refusedBody(rng: Rng, valid: Record<string, unknown>, schema: z.ZodType): FuzzBody | null {
  const text = rng.pick([
    () => JSON.stringify({ ...valid, extra: randomJsonText(rng, 1) }),
    () => JSON.stringify({ ...valid, runId: `${String(valid.runId)} ` }),
    () => JSON.stringify({ ...valid, runId: [valid.runId] }),
    () => JSON.stringify({ ...valid, target: '' }),
    () => JSON.stringify({ ...valid, reason: 'r'.repeat(501), message: 'm'.repeat(2001) }),
    () => JSON.stringify({ ...valid, gateIds: ['not-a-gate-id'] }),
    () => JSON.stringify({ ...valid, gateIds: 'AAAAAAAAAAAAAAAAAAAAAA' }),
    () => JSON.stringify({ ...valid, status: 'unknown' }),
    () => JSON.stringify([valid]),
    () => `${JSON.stringify(valid)}x`,
    () => JSON.stringify(valid).slice(0, -1),
    () => `{"__proto__": ${JSON.stringify(valid)}}`,
  ])();
  const body = jsonRequestBody(rng, text, 0.7);
  // Only bodies the protocol refuses: broken ones, or ones its schema rejects.
  const read = readJsonBody(body);
  if (read.ok && schema.safeParse(read.value).success) return null;
  return body;
}

export const PATHS = [
  '/', '/healthz', '/v1', '/v1/', '/v1/gates', '/v1/gates/', '/v1/gates/called', '/v1/gates/AAAAAAAAAAAAAAAAAAAAAA', '/v1/gates/x/y', '/v1/runs', '/v1/runs/cancel',
  '/v1/runs/targets', '/v1/runs/targets/x', '/V1/GATES', '//v1/gates', '/v1//gates', '/cb', '/cb/', '/approve', '/approve/', '/approve/x/y', '/%',
  '/%zz', '/%00', '/..', '/v1/gates/%2e%2e', '/ü', '/🚀', `/${'a'.repeat(8000)}`, `/v1/gates?run=${'r'.repeat(8000)}`, '/v1/gates/AAAAAAAAAAAAAAAAAAAAAA?run=&wait=abc',
  '/favicon.ico', '/robots.txt', '/.well-known/security.txt', '/index.ts', '/relay/app.ts',
];

export const WAITS = ['', '0', '0.0', '1e-3', '0x0', ' 0 ', '-0', 'abc', '-1', '31', '30.5', '1e309', 'NaN', 'Infinity', '-Infinity', '1,5', '٣', '\t0', '0.0001'];

export function waitOk(wait: string | undefined): boolean {
  const n = Number(wait ?? '0');
  return Number.isFinite(n) && n >= 0 && n <= 30;
}
