import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceFileReader } from '../../../action/clients/workspace-files.ts';
import { loadDeploymentFile } from '../../../action/plan/load.ts';

// <tmp>/outside/secret.txt beside <tmp>/workspace/{body.json, .github/hookgate/{deploy.yml, local.json}, links…}
const tmp = mkdtempSync(join(tmpdir(), 'hookgate-files-'));
const workspace = join(tmp, 'workspace');
beforeAll(() => {
  mkdirSync(join(workspace, '.github', 'hookgate'), { recursive: true });
  mkdirSync(join(tmp, 'outside'));
  writeFileSync(join(tmp, 'outside', 'secret.txt'), 'runner secret');
  writeFileSync(join(workspace, 'body.json'), '{"at":"root"}');
  writeFileSync(join(workspace, '.github', 'hookgate', 'local.json'), '{"at":"beside"}');
  symlinkSync(join(tmp, 'outside', 'secret.txt'), join(workspace, 'escape.json'));
  symlinkSync(join(tmp, 'outside'), join(workspace, 'outside-dir'));
  symlinkSync(join(workspace, 'body.json'), join(workspace, '.github', 'inside-link.json'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const reader = (): ((path: string) => string) => workspaceFileReader(workspace, '.github/hookgate/deploy.yml');

describe('workspaceFileReader', () => {
  it('reads a path relative to the deployment file, inside the workspace', () => {
    expect(reader()('local.json')).toBe('{"at":"beside"}');
    expect(reader()('../../body.json')).toBe('{"at":"root"}');
  });

  it('follows a symlink that stays inside the workspace', () => {
    expect(reader()('../inside-link.json')).toBe('{"at":"root"}');
  });

  it.each([
    ['a path out of the workspace', '../../../outside/secret.txt'],
    ['an absolute path', join(tmp, 'outside', 'secret.txt')],
    ['/etc/passwd', '/etc/passwd'],
    ['a symlink to a file outside', '../../escape.json'],
    ['a path through a symlinked directory outside', '../../outside-dir/secret.txt'],
  ])('refuses %s, naming the path as written', (_what, path) => {
    expect(() => reader()(path)).toThrow(`bodyTemplate.path '${path}' is outside the workspace`);
  });

  it('does not tell whether a file outside exists', () => {
    expect(() => reader()('../../../outside/no-such-file')).toThrow('is outside the workspace');
  });

  it('refuses a file outside when the workspace itself is reached through a symlink', () => {
    symlinkSync(workspace, join(tmp, 'workspace-link'));
    const linked = workspaceFileReader(join(tmp, 'workspace-link'), 'deploy.yml');
    expect(linked('body.json')).toBe('{"at":"root"}');
    expect(() => linked('escape.json')).toThrow("bodyTemplate.path 'escape.json' is outside the workspace");
  });

  it('becomes a validation error at the bodyTemplate.path line in the loader', () => {
    const text = ['targets:', '  prod: {}', 'webhooks:', '  - name: Hook', '    uriTemplate: https://example.com', '    bodyTemplate:', '      path: ../../escape.json', ''].join('\n');
    const loaded = loadDeploymentFile({
      file: '.github/hookgate/deploy.yml',
      text,
      secretNames: new Set(),
      inputContext: {},
      defaultApplication: 'app',
      readFile: reader(),
    });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.errors).toHaveLength(1);
    expect(loaded.errors[0]).toMatchObject({ line: 7, col: 13 });
    expect(loaded.errors[0]?.message).toContain("bodyTemplate.path '../../escape.json' is outside the workspace");
    expect(JSON.stringify(loaded)).not.toContain('runner secret');
  });
});
