/**
 * A local relay (`wrangler dev`, scripts/local-relay.ts) that the chaos run kills with SIGKILL (its
 * whole process group, as a crash or an OOM kill would) and starts again on the same state dir and
 * port, timing the restart from the spawn to the first request it answers.
 */
import { readFileSync } from 'node:fs';
import { startLocalRelay } from '../../scripts/local-relay.ts';
import type { LocalRelay } from '../../scripts/local-relay.ts';
import { listenerPid, onCleanup } from '../processes.ts';

/** How often the restart's probe asks /healthz: the resolution of "restart → first answer". */
const PROBE_EVERY_MS = 10;

export interface Restart {
  /** Spawn of `wrangler dev` → the first request the relay answered (2xx to /healthz), ms. */
  firstAnswerMs: number;
  /** Spawn → the relay reported ready (startLocalRelay resolved), ms. */
  readyMs: number;
  /** The kill (SIGKILL sent) → the old process group gone, ms. */
  killedMs: number;
  /** performance.now() at the spawn, to time what the clients see after it. */
  spawnedAt: number;
  /** Starts of `wrangler dev` that failed before the one that came up (each: why, and who held the port then). */
  failedStarts: string[];
}

const START_TRIES = 3;

/** Who listens on `port` now (after a failed start: another process may have taken it meanwhile). */
function portOwner(port: number): string {
  const pid = listenerPid(port);
  if (pid === null) return `nothing listens on ${port}`;
  let command = '?';
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 200);
  } catch {
    // gone meanwhile
  }
  return `pid ${pid} listens on ${port}: ${command}`;
}

export class RestartableRelay {
  private current: LocalRelay;
  private down = false;
  /** The restart under way, so that a stop (Ctrl-C) in the middle of it stops what it starts. */
  private starting: Promise<LocalRelay> | null = null;
  /** performance.now() when the last kill was sent; NaN before any. */
  killedAt = Number.NaN;
  private readonly stateDir: string;
  private readonly vars: Record<string, string>;

  private constructor(relay: LocalRelay, stateDir: string, vars: Record<string, string>) {
    this.current = relay;
    this.stateDir = stateDir;
    this.vars = vars;
  }

  /** Starts the relay on `stateDir`; the bench's cleanup stops whichever instance runs then. */
  static async start(stateDir: string, vars: Record<string, string> = {}): Promise<RestartableRelay> {
    const relay = new RestartableRelay(await startLocalRelay({ stateDir, vars }), stateDir, vars);
    onCleanup(() => relay.stop());
    return relay;
  }

  get url(): string {
    return this.current.url;
  }

  get port(): number {
    return this.current.port;
  }

  get token(): string {
    return this.current.relayToken;
  }

  /**
   * SIGKILLs the whole process group now (wrangler, its proxy workerd and the relay's workerd) and
   * resolves once every process of it is gone; nothing the relay had not written survives.
   */
  async kill(): Promise<number> {
    this.killedAt = performance.now();
    this.down = true;
    await this.current.kill();
    return performance.now() - this.killedAt;
  }

  /** Starts `wrangler dev` again on the same state and port; times the first answer. */
  async restart(killedMs: number): Promise<Restart> {
    const spawned = { at: performance.now() };
    let firstAnswerAt = Number.NaN;
    let probing = true;
    const ready = { at: Number.NaN };
    const probe = (async () => {
      while (probing && Number.isNaN(firstAnswerAt)) {
        try {
          const response = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) });
          await response.arrayBuffer();
          if (response.ok) firstAnswerAt = performance.now();
        } catch {
          // not listening yet
        }
        if (Number.isNaN(firstAnswerAt)) await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
      }
    })();
    const failures: string[] = [];
    try {
      for (;;) {
        // A failed start is tried again (at most START_TRIES in all), the second time with wrangler's output shown.
        const output = failures.length > 0 ? 'inherit' : undefined;
        spawned.at = performance.now();
        this.starting = startLocalRelay({ stateDir: this.stateDir, vars: this.vars, port: this.port, ...(output ? { output } : {}) });
        try {
          this.current = await this.starting;
          break;
        } catch (error) {
          failures.push(`${error instanceof Error ? error.message : String(error)}; ${portOwner(this.port)}`);
          console.error(`chaos: restart on port ${this.port} failed: ${failures.at(-1)}`);
          if (failures.length >= START_TRIES) throw new Error(`the relay did not come back on port ${this.port} in ${START_TRIES} starts: ${failures.join(' | ')}`, { cause: error });
        }
      }
      this.down = false;
      ready.at = performance.now();
    } finally {
      this.starting = null;
      // The relay answered its ready check: the probe gets its answer within one more turn.
      const stopAfter = setTimeout(() => (probing = false), 3000);
      await probe;
      clearTimeout(stopAfter);
    }
    return { firstAnswerMs: firstAnswerAt - spawned.at, readyMs: ready.at - spawned.at, killedMs, spawnedAt: spawned.at, failedStarts: failures };
  }

  async stop(): Promise<void> {
    const starting = this.starting;
    if (starting) await starting.then((relay) => relay.stop(), () => undefined);
    else if (!this.down) await this.current.stop();
  }
}
