/**
 * The park and resume routes of the in-memory relay (shared/park.ts): journal, park, resume,
 * unpark. Requests are checked with the contract's schemas and refused as the relay refuses.
 */
import type { z } from 'zod';
import { JournalRequest, MAX_JOURNAL_ENTRIES, MAX_PARKED_JOBS, ParkRequest, ResumeRequest, UnparkRequest } from '../../../shared/park.ts';
import type { JournalEntry, ParkResponse, ParkState, ResumeResponse, RunRef } from '../../../shared/park.ts';
import type { TargetRecord } from '../../../shared/protocol.ts';
import type { FakeClock } from '../fakes.ts';

export interface FakePark {
  request: ParkRequest;
  state: ParkState;
  claimedBy: RunRef | null;
}

export class FakeParking {
  readonly journal: JournalEntry[] = [];
  readonly parks = new Map<string, FakePark>();
  /** How the relay answers a park: `automatic` with a GitHub App, else `manual` with a reason. */
  resume: Pick<ParkResponse, 'resume' | 'reason'> = { resume: 'automatic', reason: null };
  /** Why there is nothing to continue, in a resume answer that is not continuing. */
  nothingReason = 'the deployment has no parked job';
  private readonly clock: FakeClock;
  private readonly targets: () => TargetRecord[];

  constructor(clock: FakeClock, targets: () => TargetRecord[]) {
    this.clock = clock;
    this.targets = targets;
  }

  /** Answers `route`, or null when it is not one of the park routes. */
  handle(route: string, body: unknown): Response | null {
    switch (route) {
      case 'POST /v1/runs/journal':
        return parsed(JournalRequest, body, (request) => this.record(request));
      case 'POST /v1/runs/park':
        return parsed(ParkRequest, body, (request) => this.park(request));
      case 'POST /v1/runs/resume':
        return parsed(ResumeRequest, body, (request) => this.resumeCheck(request));
      case 'POST /v1/runs/unpark':
        return parsed(UnparkRequest, body, (request) => this.unpark(request));
      default:
        return null;
    }
  }

  /** A parked attempt's state, as a job that parked leaves it. */
  parked(request: ParkRequest, entries: { key: string; record: JournalEntry['record'] }[] = []): void {
    this.parks.set(request.job, { request, state: 'parked', claimedBy: null });
    for (const entry of entries) this.journal.push({ ...entry, attempt: request.attempt, run: request.run, at: this.journal.length });
  }

  private record(request: z.output<typeof JournalRequest>): Response {
    if (this.journal.some((e) => e.key === request.key && e.attempt === request.attempt)) return Response.json({ recorded: false });
    if (this.journal.length >= MAX_JOURNAL_ENTRIES) return error(422, 'too_many_entries', `at most ${MAX_JOURNAL_ENTRIES} journal entries`);
    this.journal.push({ key: request.key, attempt: request.attempt, record: request.record, run: request.run, at: this.clock.now() });
    return Response.json({ recorded: true });
  }

  private park(request: z.output<typeof ParkRequest>): Response {
    if (!this.parks.has(request.job) && this.parks.size >= MAX_PARKED_JOBS) return error(422, 'too_many_parks', `at most ${MAX_PARKED_JOBS} parked jobs`);
    this.parks.set(request.job, { request, state: 'parked', claimedBy: null });
    return Response.json({ job: request.job, ...this.resume } satisfies ParkResponse);
  }

  private resumeCheck(request: z.output<typeof ResumeRequest>): Response {
    const open = [...this.parks.values()].filter((p) => p.state !== 'closed');
    const first = open[0];
    if (!first) {
      const answer: ResumeResponse = { continuing: false, attempt: request.attempt, parkedBy: null, journal: [], targets: [], reason: this.nothingReason };
      return Response.json(answer);
    }
    const own = this.parks.get(request.job);
    const ownActive = own !== undefined && own.state !== 'closed';
    // As the relay (relay/run/parking.ts): one run at a time continues a job; a re-run continues only its own park.
    if (own?.state === 'claimed' && own.claimedBy && own.claimedBy.id !== request.run.id) {
      const reason = `job ${request.job} of this deployment is already being continued by run ${own.claimedBy.url || own.claimedBy.id}`;
      const held: ResumeResponse = { continuing: false, attempt: request.attempt, parkedBy: null, journal: [], targets: [], reason, heldBy: own.claimedBy };
      return Response.json(held);
    }
    if (!request.requested && !ownActive) {
      const fresh: ResumeResponse = { continuing: false, attempt: request.attempt, parkedBy: null, journal: [], targets: [], reason: 're-run of a job that did not park: it starts afresh' };
      return Response.json(fresh);
    }
    if (own && ownActive) Object.assign(own, { state: 'claimed', claimedBy: request.run });
    const attempt = first.request.attempt;
    const answer: ResumeResponse = {
      continuing: true,
      attempt,
      parkedBy: first.request.run,
      journal: this.journal.filter((e) => e.attempt === attempt),
      targets: this.targets().filter((t) => t.attempt === attempt),
      reason: null,
      initiator: first.request.initiator ?? null,
    };
    return Response.json(answer);
  }

  private unpark(request: z.output<typeof UnparkRequest>): Response {
    const park = this.parks.get(request.job);
    if (park) park.state = 'closed';
    return Response.json({ job: request.job, state: park ? 'closed' : null });
  }
}

function parsed<S extends z.ZodType>(schema: S, body: unknown, then: (value: z.output<S>) => Response): Response {
  const result = schema.safeParse(body);
  return result.success ? then(result.data) : error(400, 'bad_request', result.error.message);
}

function error(status: number, code: string, message: string): Response {
  return Response.json({ error: code, message }, { status });
}
