/** The machine the figures were taken on, and how busy other processes kept it meanwhile. */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../scripts/local-relay.ts';

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  os: string;
  node: string;
  wrangler: string;
  workerd: string;
  commit: string;
  loadAverage: number[];
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    return `${pretty ?? process.platform}, kernel ${release()}`;
  } catch {
    return `${process.platform} ${release()}`;
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'action', 'relay', 'shared', 'dist'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${head} (action/relay/shared/dist modified)` : head;
  } catch {
    return 'unknown';
  }
}

export function machine(): Machine {
  const model = cpus()[0]?.model.trim() ?? 'unknown';
  return {
    cpu: model,
    cores: availableParallelism(),
    ramGiB: totalmem() / 1024 ** 3,
    os: osName(),
    node: process.version,
    wrangler: packageVersion('wrangler'),
    workerd: packageVersion('workerd'),
    commit: gitCommit(),
    loadAverage: loadavg(),
  };
}

export interface BackgroundLoad {
  /** CPU other processes (not the bench and its children) used, as a share of one core, averaged. */
  othersCores: number;
  /** The busiest second of other processes, in cores. */
  othersPeakCores: number;
  /** The heaviest other commands seen, by CPU seconds. */
  top: { command: string; cpuSeconds: number }[];
}

interface Proc {
  ppid: number;
  comm: string;
  ticks: number;
}

function processes(): Map<number, Proc> {
  const all = new Map<number, Proc>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = text.lastIndexOf(')');
      const rest = text.slice(close + 2).split(' ');
      all.set(Number(entry), {
        ppid: Number(rest[1]),
        comm: text.slice(text.indexOf('(') + 1, close),
        ticks: Number(rest[11]) + Number(rest[12]),
      });
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

const labels = new Map<number, string>();

/** "node vitest run", "workerd serve": a process's command line, short. */
function label(pid: number, comm: string): string {
  let known = labels.get(pid);
  if (known === undefined) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      known = args.slice(0, 3).map((arg) => arg.split('/').pop()).join(' ').slice(0, 60) || comm;
    } catch {
      known = comm;
    }
    labels.set(pid, known);
  }
  return known;
}

/**
 * Samples /proc once a second: the CPU time of every process that is not the
 * bench or one of its descendants. Processes that live less than a second are
 * missed, so this is a lower bound. Linux only; elsewhere it reports nothing.
 */
export function watchBackgroundLoad(): { stop(): BackgroundLoad } {
  let previous = processes();
  let othersTicks = 0;
  let peak = 0;
  let seconds = 0;
  const byCommand = new Map<string, number>();
  const sample = (): void => {
    const now = processes();
    const ours = new Set<number>([process.pid]);
    // Parents have lower pids in general but not always: repeat until stable.
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, proc] of now) {
        if (!ours.has(pid) && ours.has(proc.ppid)) {
          ours.add(pid);
          grew = true;
        }
      }
    }
    let tick = 0;
    for (const [pid, proc] of now) {
      if (ours.has(pid)) continue;
      const before = previous.get(pid);
      const delta = before && before.comm === proc.comm ? proc.ticks - before.ticks : 0;
      if (delta <= 0) continue;
      tick += delta;
      const name = label(pid, proc.comm);
      byCommand.set(name, (byCommand.get(name) ?? 0) + delta);
    }
    othersTicks += tick;
    peak = Math.max(peak, tick / 100);
    seconds++;
    previous = now;
  };
  const timer = setInterval(sample, 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return {
        othersCores: seconds > 0 ? othersTicks / 100 / seconds : 0,
        othersPeakCores: peak,
        top: [...byCommand]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 4)
          .map(([command, ticks]) => ({ command, cpuSeconds: ticks / 100 })),
      };
    },
  };
}

/** Most CPU other processes may use, in cores on average, for a run to count as quiet (BENCHMARKS.md keeps only those). */
export const QUIET_OTHERS_CORES = 0.1;

/** Whether other processes left the machine alone during the run. */
export function isQuiet(load: BackgroundLoad): boolean {
  return load.othersCores <= QUIET_OTHERS_CORES;
}
