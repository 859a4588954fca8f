/**
 * Fuzzing POST /v1/gates/called (SPEC §11) inside workerd: valid reports with fields swapped or
 * dropped, broken bodies and bad credentials, about pending and decided gates. Never a 5xx, every
 * error JSON; a valid report answers the gate's view (404 for a gate the run does not have); and
 * no report decides a gate or changes its message (read back at the end).
 *
 * Replay with VITE_HOOKGATE_FUZZ_SEED=<seed>; a failure names the request index.
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { GateCalledRequest, GateView } from '../../../shared/protocol.ts';
import { answerProblem, bodyHeaders, jsonRequestBody, mutateFields, requestBody, StatusTally } from '../../support/fuzz-http.ts';
import { caseRng, fuzzSeed } from '../../support/fuzz-random.ts';
import { authHeaders, BASE, decide, getGate, newRunId, register } from '../helpers.ts';
import { CALLED_CHOICES, expectedFor } from './fuzz-api-cases.ts';

const SEED = fuzzSeed((import.meta as { env?: Record<string, string | undefined> }).env?.VITE_HOOKGATE_FUZZ_SEED, 20_261_129);

type Known = { runId: string; gateId: string; state: string; message: string | null };

describe('POST /v1/gates/called under fuzzing', () => {
  it('answers every report within the protocol and decides nothing', { timeout: 120_000 }, async () => {
    const started = performance.now();
    const tally = new StatusTally();
    const problems: string[] = [];
    const known: Known[] = [];
    for (let r = 0; r < 2; r++) {
      const runId = newRunId(`fuzz-called-${r}`);
      for (let g = 0; g < 4; g++) {
        const gate = await register({ runId, stepKey: `called/${g}`, heartbeatSeconds: g % 2 === 0 ? 60 : undefined });
        const entry: Known = { runId, gateId: gate.gateId, state: 'pending', message: null };
        if (g === 3) {
          await decide(gate.callbackUri, { success: false, mdMessage: 'decided before' });
          Object.assign(entry, { state: 'failed', message: 'decided before' });
        }
        known.push(entry);
      }
    }
    const ids = new Set(known.map((gate) => `${gate.runId} ${gate.gateId}`));

    for (let i = 0; i < 400; i++) {
      const rng = caseRng(SEED, 'called', i);
      const where = `seed ${SEED}, called #${i}`;
      const gate = rng.pick(known);
      const other = rng.pick(known);
      const valid = { runId: gate.runId, gateId: rng.chance(0.8) ? gate.gateId : other.gateId };
      const body = jsonRequestBody(rng, mutateFields(rng, valid, CALLED_CHOICES), 0.85);
      const badAuth = rng.chance(0.08);
      const headers = { ...(badAuth ? { authorization: 'Bearer wrong' } : authHeaders()), ...bodyHeaders(body) };
      const res = await SELF.fetch(`${BASE}/v1/gates/called`, { method: 'POST', headers, body: requestBody(body) });
      tally.add('POST /v1/gates/called', res.status);
      const copy = res.clone();
      const problem = await answerProblem(res, 'POST', 'json');
      if (problem) problems.push(`${where}: ${problem}`);
      const want = badAuth ? { status: 401 as const } : expectedFor(body, GateCalledRequest);
      if (want.status !== 'valid') {
        if (copy.status !== want.status) problems.push(`${where}: ${body.label} body answered ${copy.status}, not ${want.status}`);
        continue;
      }
      const exists = ids.has(`${want.value.runId} ${want.value.gateId}`);
      if (copy.status !== (exists ? 200 : 404)) problems.push(`${where}: a valid report about ${exists ? 'a' : 'no'} gate of the run got ${copy.status}`);
      if (copy.status === 200) {
        const view = GateView.safeParse(await copy.json());
        if (!view.success || view.data.gateId !== want.value.gateId) problems.push(`${where}: the answer is not the gate's view`);
      }
    }

    for (const gate of known) {
      const view = await getGate(gate.runId, gate.gateId);
      if (view.state !== gate.state || view.message !== gate.message) problems.push(`gate ${gate.gateId} is ${view.state} (${view.message}), was ${gate.state}`);
      if (gate.state === 'pending' && view.lastHeardAt === null) problems.push(`gate ${gate.gateId}: never recorded as called`);
    }
    console.log(tally.format(`called fuzz (seed ${SEED})`, performance.now() - started));
    expect(problems.slice(0, 30), problems.slice(0, 30).join('\n')).toEqual([]);
  });
});
