/**
 * Fuzzing the parking routes inside workerd (relay/worker/park-routes.ts): valid journal, park,
 * resume and unpark bodies with fields swapped, dropped or added, and bodies broken on the way.
 * Never a 5xx; every error JSON `{error, message}`; a body the contract refuses gets 400 (413
 * when too large); a valid one gets what the contract says.
 *
 * Replay with VITE_HOOKGATE_FUZZ_SEED=<seed>; a failure names the route and request index.
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { JournalRequest, ParkRequest, ResumeRequest, UnparkRequest } from '../../../shared/park.ts';
import { answerProblem, bodyHeaders, jsonRequestBody, mutateFields, requestBody, StatusTally } from '../../support/fuzz-http.ts';
import { caseRng, fuzzSeed } from '../../support/fuzz-random.ts';
import { authHeaders, BASE, newRunId } from '../helpers.ts';
import { journalRequest, newRepository, PARKED_RUN, parkRequest } from '../park.ts';
import { expectedFor } from './fuzz-api-cases.ts';

const SEED = fuzzSeed((import.meta as { env?: Record<string, string | undefined> }).env?.VITE_HOOKGATE_FUZZ_SEED, 20_261_129);
const REQUESTS_PER_ROUTE = 150;

const RUN_REFS = [PARKED_RUN, { ...PARKED_RUN, url: 'javascript:alert(1)' }, { ...PARKED_RUN, id: 'a b' }, { ...PARKED_RUN, attempt: 0 }, {}, null];
const COMMON = {
  runId: ['', 'x'.repeat(201), 5, null, 'acme/potato-facts/1'],
  job: ['', '*', 'prod#beforeDeployment', 'j'.repeat(230), 'j'.repeat(231), 7, null],
  attempt: [0, 1, 2, 10_001, -1, 1.5, '1', null],
  run: RUN_REFS,
};

/** The journal's body limit (SPEC §9: a step's entry carries outputs of up to 64 KiB), repeated so the oracle does not borrow the relay's constant. */
const JOURNAL_BODY_LIMIT = 96 * 1024;

const ROUTES: { path: string; schema: z.ZodType; limit?: number; valid: () => Record<string, unknown>; choices: Record<string, readonly unknown[]> }[] = [
  {
    path: '/v1/runs/journal',
    schema: JournalRequest,
    limit: JOURNAL_BODY_LIMIT,
    valid: () => journalRequest(newRunId('fuzz-journal')),
    choices: {
      ...COMMON,
      key: ['', 'prod/deploy', 'k'.repeat(1300), 'k'.repeat(1301), 'prod#end', null],
      record: [{ type: 'called' }, { type: 'step' }, { type: 'target', outcome: 'parked', message: '' }, { type: 'target', outcome: 'failed', message: 'm'.repeat(2001) }, 'called', null],
    },
  },
  {
    path: '/v1/runs/park',
    schema: ParkRequest,
    valid: () => parkRequest(newRunId('fuzz-park'), newRepository(), { targets: ['never'] }),
    choices: {
      ...COMMON,
      gateIds: [[], ['AAAAAAAAAAAAAAAAAAAAAA'], ['bad'], Array(1001).fill('AAAAAAAAAAAAAAAAAAAAAA'), null],
      targets: [[], ['staging'], [''], ['t'.repeat(201)], 'staging', null],
      resume: [
        { repository: 'wild-org/x', workflow: '.github/workflows/d.yml', ref: 'refs/heads/main' },
        { repository: 'wild-org', workflow: '.github/workflows/d.yml', ref: 'refs/heads/main' },
        { repository: 'wild-org/x', workflow: '../d.yml', ref: 'refs/heads/main' },
        { repository: 'wild-org/x', workflow: '.github/workflows/d.yml', ref: '' },
        { repository: 'evil/app', workflow: '.github/workflows/d.yml', ref: 'refs/pull/1/merge' },
        null,
      ],
    },
  },
  {
    path: '/v1/runs/resume',
    schema: ResumeRequest,
    valid: () => ({ runId: newRunId('fuzz-resume'), job: '*', attempt: 1, requested: true, run: PARKED_RUN }),
    choices: { ...COMMON, requested: [true, false, 'true', 1, null] },
  },
  {
    path: '/v1/runs/unpark',
    schema: UnparkRequest,
    valid: () => ({ runId: newRunId('fuzz-unpark'), job: '*', attempt: 1 }),
    choices: { runId: COMMON.runId, job: COMMON.job, attempt: COMMON.attempt },
  },
];

describe('the parking routes under fuzzing', () => {
  it(`answer ${REQUESTS_PER_ROUTE} random bodies per route as the contract says, never with a 5xx`, async () => {
    const tally = new StatusTally();
    const started = Date.now();
    const problems: string[] = [];
    for (const route of ROUTES) {
      for (let index = 0; index < REQUESTS_PER_ROUTE; index++) {
        const rng = caseRng(SEED, route.path, index);
        const body = jsonRequestBody(rng, mutateFields(rng, route.valid(), route.choices), 0.85);
        const expected = expectedFor(body, route.schema, route.limit);
        const res = await SELF.fetch(`${BASE}${route.path}`, { method: 'POST', headers: { ...authHeaders(), ...bodyHeaders(body) }, body: requestBody(body) });
        tally.add(`POST ${route.path}`, res.status);
        const problem = await answerProblem(res, 'POST', 'json');
        const allowed = expected.status === 'valid' ? [200, 403] : [expected.status];
        if (problem) problems.push(`${route.path} #${index} (${body.label}): ${problem}`);
        else if (!allowed.includes(res.status)) problems.push(`${route.path} #${index} (${body.label}): ${res.status}, expected ${allowed.join(' or ')}`);
      }
    }
    console.log(tally.format(`parking routes fuzz (seed ${SEED})`, Date.now() - started));
    expect(problems).toEqual([]);
  }, 120_000);
});
