/**
 * build.ts hands @actions/core a lazy @actions/http-client: the bundle must still
 * fetch an OIDC token the way the runner provides one (ACTIONS_ID_TOKEN_REQUEST_URL
 * and _TOKEN), and the client must stay out of what loads at start.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOptions } from '../../build.ts';
import { ROOT } from '../../scripts/local-relay.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(ROOT, '.lazy-http-client-'));
  await writeFile(
    join(dir, 'entry.ts'),
    "import * as core from '@actions/core';\nconsole.log(`token=${await core.getIDToken('https://relay.example')}`);\n",
  );
  await build({ ...buildOptions, entryPoints: { entry: join(dir, 'entry.ts') }, outdir: join(dir, 'out'), logLevel: 'silent' });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the lazy @actions/http-client', () => {
  it('still gets an OIDC token from the runner’s token endpoint, with its bearer token and the audience', async () => {
    const seen: { url: string; auth: string }[] = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization ?? '' });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: 'eyJ.fake.jwt' }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'out', 'entry.js')], {
        env: {
          PATH: process.env.PATH ?? '',
          ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-request-token',
        },
      });
      expect(stdout).toContain('token=eyJ.fake.jwt');
      expect(seen).toEqual([{ url: '/token?api-version=2.0&audience=https%3A%2F%2Frelay.example', auth: 'Bearer runner-request-token' }]);
    } finally {
      server.close();
    }
  });

  it('keeps undici out of the chunks dist/index.js loads at start', async () => {
    const index = await readFile(join(ROOT, 'dist', 'index.js'), 'utf8');
    const eager = [...index.matchAll(/from\s*"\.\/(chunks\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(eager.length).toBeGreaterThan(0);
    const chunks = await readdir(join(ROOT, 'dist', 'chunks'));
    const lazy = chunks.filter((name) => !eager.includes(`chunks/${name}`));
    expect(lazy.length).toBeGreaterThan(0);
    for (const chunk of eager) expect(await readFile(join(ROOT, 'dist', chunk), 'utf8')).not.toContain('undici');
  });
});
