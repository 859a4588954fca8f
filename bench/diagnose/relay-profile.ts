/**
 * `node bench/diagnose/relay-profile.ts [waiting]`: a V8 CPU profile of the
 * relay's isolate inside wrangler dev (through wrangler's inspector proxy) while
 * 250 of `waiting` + 250 gates of one run, all long-polled by the action's
 * client, are decided one at a time. Prints where the time went and writes the
 * .cpuprofile (open it in Chrome DevTools) to a temp dir. The profiler roughly
 * doubles the relay's CPU time; compare shares, not absolute figures.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForDecision } from '../../action/clients/relay.ts';
import { startLocalRelay } from '../../scripts/local-relay.ts';
import { listenerPorts, settle, workerdCpuReader } from '../processes.ts';
import { actionClient, registerGates, runIdsFor, sendCallback } from '../relay-gates.ts';
import { distribution, shuffled } from '../stats.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A DevTools protocol session over wrangler's inspector proxy (it wants an Origin header). */
async function inspector(url: string): Promise<{ send(method: string, params?: object): Promise<unknown>; close(): void }> {
  // Node's WebSocket (undici) takes headers in a second argument the DOM type does not declare.
  const socket = new WebSocket(url, { headers: { origin: 'http://localhost' } } as unknown as string[]);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve);
    socket.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)));
  });
  let next = 0;
  const pending = new Map<number, (result: unknown) => void>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve) => {
        const id = ++next;
        pending.set(id, resolve);
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

function summarize(profile: Profile, callbacks: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    total += delta;
    const frame = byId.get(id)?.callFrame;
    const key = frame ? `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop() ?? ''}:${frame.lineNumber + 1}` : '?';
    self.set(key, (self.get(key) ?? 0) + delta);
  });
  const share = (test: (key: string) => boolean): string =>
    `${((100 * [...self].filter(([key]) => test(key)).reduce((sum, [, us]) => sum + us, 0)) / total).toFixed(0)}%`;
  console.log(
    `profile: ${(total / 1000).toFixed(0)} ms: idle ${share((k) => k.startsWith('(idle)'))}, the Worker's bundle (relay, Hono, zod) ${share((k) => / index\.js:/.test(k))}, native and runtime ${share((k) => !k.startsWith('(idle)') && !/ index\.js:/.test(k))}`,
  );
  console.log('self time per callback, top 20:');
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    console.log(`  ${(us / 1000 / callbacks).toFixed(2).padStart(6)} ms  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
  }
}

const waiting = Number(process.argv[2] ?? '1000');
const decide = 250;
const state = await mkdtemp(join(tmpdir(), 'hookgate-profile-'));
const relay = await startLocalRelay({ stateDir: state });
try {
  let debuggerUrl = '';
  for (const port of listenerPorts(relay.port)) {
    try {
      const targets = (await (await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(500) })).json()) as { webSocketDebuggerUrl: string; title: string }[];
      // wrangler's own proxy lists one target, "Cloudflare Worker": the relay's isolate.
      if (targets.length === 1 && targets[0]) debuggerUrl = targets[0].webSocketDebuggerUrl;
    } catch {
      // not an inspector
    }
  }
  if (!debuggerUrl) throw new Error('wrangler dev exposes no inspector');
  const session = await inspector(debuggerUrl);
  await session.send('Profiler.enable');
  await session.send('Profiler.setSamplingInterval', { interval: 200 });

  const target = { url: relay.url, token: relay.relayToken, port: relay.port };
  const client = actionClient(target);
  const gates = await registerGates(target, runIdsFor('one-run', waiting + decide, 'profile'), 'profile');
  const controller = new AbortController();
  const woken = new Map<string, Promise<number>>();
  for (const gate of gates) {
    const done = waitForDecision(client, gate.view, { signal: controller.signal }).then(() => performance.now());
    done.catch(() => undefined);
    woken.set(gate.view.gateId, done);
  }
  await settle(relay.port, gates.length);
  const cpu = workerdCpuReader(relay.port);
  const [warmUp, ...order] = shuffled(gates);
  if (warmUp) await sendCallback(warmUp.callbackUri);
  await session.send('Profiler.start');
  const cpuBefore = cpu();
  const latencies: number[] = [];
  for (const gate of order.slice(0, decide)) {
    const sent = performance.now();
    await sendCallback(gate.callbackUri);
    latencies.push(((await woken.get(gate.view.gateId)) ?? Number.NaN) - sent);
  }
  const cpuMs = cpu() - cpuBefore;
  const { profile } = (await session.send('Profiler.stop')) as { profile: Profile };
  controller.abort();
  session.close();
  const file = join(tmpdir(), `hookgate-relay-${Date.now()}.cpuprofile`);
  await writeFile(file, JSON.stringify(profile));
  const d = distribution(latencies);
  console.log(`${waiting}–${waiting + decide - 1} gates waiting: wake p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms (profiled); workerd CPU ${(cpuMs / decide).toFixed(1)} ms per callback`);
  summarize(profile, decide);
  console.log(`wrote ${file}`);
} finally {
  await relay.stop();
  await rm(state, { recursive: true, force: true });
}
