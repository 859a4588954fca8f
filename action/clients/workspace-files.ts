/** Reads the files a deployment file names (`bodyTemplate.path`), confined to the workspace. */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * A reader for paths written relative to the deployment file's directory that refuses, with an
 * Error naming the path as written, anything outside the workspace (GITHUB_WORKSPACE). Links are
 * resolved first on both sides: a `..` or a symlink in the checkout must not let a deployment
 * file (say, a pull request's) send any file of the runner to a webhook.
 */
export function workspaceFileReader(workspace: string, deploymentFile: string): (path: string) => string {
  const root = resolve(workspace);
  const base = dirname(resolve(root, deploymentFile));
  const outside = (path: string): Error => new Error(`bodyTemplate.path '${path}' is outside the workspace ${root}; only files in the repository can be read`);
  return (path) => {
    const lexical = resolve(base, path);
    // Checked before the file system is asked, so an error never tells whether a file outside exists.
    if (!isInside(root, lexical)) throw outside(path);
    const real = realpathSync(lexical);
    if (!isInside(realpathSync(root), real)) throw outside(path);
    return readFileSync(real, 'utf8');
  };
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
