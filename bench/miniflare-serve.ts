/**
 * A Worker of this repository under Miniflare's API directly
 * (`node bench/miniflare-serve.ts <wrangler.jsonc> <bundle dir> <state dir>`): the same workerd as
 * `wrangler dev`, without wrangler's proxy Worker in front. Run as its own process (group) by
 * bench/miniflare-relay.ts, so the bench's client shares no event loop with it.
 * Prints one JSON line `{"url": …}` on stdout once the relay answers; stops on SIGTERM.
 * Variables come as JSON on stdin (never on the command line, which `ps` shows).
 */
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { durableObjects, workerConfig } from './miniflare-relay.ts';

async function main(): Promise<void> {
  const [configPath, bundleDir, stateDir] = process.argv.slice(2);
  if (!configPath || !bundleDir || !stateDir) throw new Error('usage: node bench/miniflare-serve.ts <wrangler.jsonc> <bundle dir> <state dir>');
  const vars = JSON.parse((await text(process.stdin)) || '{}') as Record<string, string>;
  const config = await workerConfig(configPath);
  // Miniflare 5 reads the flat, one-Worker options of its v4 API through this converter.
  const options = convertV4MiniflareOptions({
    host: '127.0.0.1',
    port: 0,
    // No Request.cf download: the bench never contacts a public host.
    cf: false,
    log: new Log(LogLevel.WARN),
    resourcePersistencePath: stateDir,
    name: config.name,
    modules: true,
    modulesRoot: bundleDir,
    scriptPath: join(bundleDir, 'index.js'),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    bindings: { ...config.vars, ...vars },
    durableObjects: durableObjects(config),
  });
  const mf = new Miniflare(options);
  const url = await mf.ready;
  const stop = (): void => {
    void mf.dispose().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ url: url.origin })}\n`);
}

main().catch((error: unknown) => {
  console.error(`miniflare-serve: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
