/**
 * What the bench started and must stop (also on Ctrl-C), and what Linux's /proc
 * says about sockets and CPU time: how many connections are really open to a
 * port, and how much CPU the workerd processes behind a port spent.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { sleep } from './stats.ts';

type Cleanup = () => Promise<unknown>;
const cleanups: Cleanup[] = [];
let stopping: Promise<void> | null = null;

/** Registers something to stop when the bench ends, fails or is interrupted; last in, first out. */
export function onCleanup(cleanup: Cleanup): void {
  cleanups.push(cleanup);
}

/** Runs every registered cleanup once (errors are reported, not thrown). */
export function cleanupAll(): Promise<void> {
  stopping ??= (async () => {
    while (cleanups.length > 0) {
      const cleanup = cleanups.pop();
      try {
        await cleanup?.();
      } catch (error) {
        console.error(`bench: cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return stopping;
}

/** Ctrl-C and SIGTERM stop the relay and everything else before the bench exits. */
export function cleanupOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\nbench: ${signal}: stopping what the bench started …`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}

interface TcpSocket {
  localPort: number;
  remotePort: number;
  /** Kernel state: 1 established, 10 listening. */
  state: number;
  inode: number;
}

function tcpSockets(): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1]?.split(':')[1];
      const remote = fields[2]?.split(':')[1];
      if (!local || !remote || !fields[3] || !fields[9]) continue;
      sockets.push({
        localPort: parseInt(local, 16),
        remotePort: parseInt(remote, 16),
        state: parseInt(fields[3], 16),
        inode: Number(fields[9]),
      });
    }
  }
  return sockets;
}

/** Established client connections to `port` on this machine (the client side of each). */
export function connectionsTo(port: number): number {
  return tcpSockets().filter((s) => s.remotePort === port && s.state === 1).length;
}

/** The pid listening on `port`, found through its socket's inode in /proc/<pid>/fd. */
export function listenerPid(port: number): number | null {
  const inodes = new Set(tcpSockets().filter((s) => s.localPort === port && s.state === 10).map((s) => `socket:[${s.inode}]`));
  if (inodes.size === 0) return null;
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && fdLinks(entry).some((link) => inodes.has(link))) return Number(entry);
  }
  return null;
}

/** What the open file descriptors of process `pid` point at (`socket:[inode]` for sockets); [] once it is gone. */
function fdLinks(pid: string): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  return fds.flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return []; // closed meanwhile
    }
  });
}

/** Every TCP port listened on by the process group that serves `port` (wrangler, its inspector proxy, workerd). */
export function listenerPorts(port: number): number[] {
  const pid = listenerPid(port);
  const group = pid === null ? undefined : procStat(pid)?.pgrp;
  if (group === undefined) return [];
  const listening = new Map(tcpSockets().filter((s) => s.state === 10).map((s) => [`socket:[${s.inode}]`, s.localPort]));
  const ports = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || procStat(Number(entry))?.pgrp !== group) continue;
    for (const link of fdLinks(entry)) {
      const found = listening.get(link);
      if (found !== undefined) ports.add(found);
    }
  }
  return [...ports];
}

interface ProcStat {
  pid: number;
  comm: string;
  pgrp: number;
  /** utime + stime in clock ticks. */
  ticks: number;
}

function procStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const rest = text.slice(close + 2).split(' ');
    // Fields after comm: state(0) ppid(1) pgrp(2) … utime(11) stime(12).
    return { pid, comm, pgrp: Number(rest[2]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null;
  }
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU milliseconds spent so far by the workerd processes of the process group
 * that serves `port` (wrangler dev runs two: its proxy and the Worker itself).
 */
export function workerdCpuReader(port: number): () => number {
  const pid = listenerPid(port);
  const group = pid === null ? null : procStat(pid)?.pgrp;
  if (group === null || group === undefined) return () => Number.NaN;
  return () => {
    let ticks = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = procStat(Number(entry));
      if (stat && stat.pgrp === group && stat.comm === 'workerd') ticks += stat.ticks;
    }
    return (ticks * 1000) / TICKS_PER_SECOND;
  };
}

/**
 * Waits until `count` connections to the relay on `port` are open and workerd has
 * been idle for a moment: every long-poll has reached its Durable Object and waits.
 * Resolves with the most connections seen.
 */
export async function settle(port: number, count: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while ((seen = Math.max(seen, connectionsTo(port))) < count) {
    if (Date.now() > deadline) throw new Error(`only ${seen} of ${count} long-polls got a connection`);
    await sleep(20);
  }
  const cpu = workerdCpuReader(port);
  // /proc counts CPU in 10 ms ticks: at most one tick per 50 ms, twice in a row, is idle.
  for (let quiet = 0; quiet < 2 && Date.now() < deadline; ) {
    const before = cpu();
    await sleep(50);
    quiet = cpu() - before <= 10 ? quiet + 1 : 0;
  }
  return Math.max(seen, connectionsTo(port));
}
