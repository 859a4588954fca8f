// `hookgate validate [file] [options]`: the command line, read once into typed options.
import { parseArgs } from 'node:util';
import { errorMessage } from '../lib/errors.ts';

export const USAGE = `Usage: hookgate validate [file] [options]

Checks a hookgate deployment file with the action's own loader, without contacting anything.
Errors are printed as file:line:col: field: message; notices (accepted, ignored fields) too.

  file                  the deployment file (default: deploy.yml)
  --secrets a,b         the names the action's secrets input will hold; {{secrets.*}} names
                        outside them are errors (default: any name is accepted, since the
                        values live in GitHub, not in the repository)
  --context key=value   a key of the action's context input (repeatable; the value is optional):
                        {{context.key}} may then be used without the file defining it
  --workspace dir       the repository root bodyTemplate.path must stay inside
                        (default: $GITHUB_WORKSPACE, else the current directory)
  --format text|github  github prints workflow-command annotations (default: github when
                        GITHUB_ACTIONS=true, else text)
  -h, --help            this text

Exit status: 0 valid (notices allowed), 1 invalid, 2 usage error or unreadable file.`;

export interface ValidateOptions {
  file: string;
  /** null: any secret name is accepted. */
  secrets: Set<string> | null;
  context: Record<string, string>;
  workspace: string;
  format: 'text' | 'github';
}

export type Parsed = { kind: 'help' } | { kind: 'validate'; options: ValidateOptions } | { kind: 'usage-error'; message: string };

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The command line as options, or what is wrong with it. */
export function parseCommandLine(args: readonly string[], env: Readonly<Record<string, string | undefined>>, cwd: string): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        secrets: { type: 'string', multiple: true },
        context: { type: 'string', multiple: true },
        workspace: { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return { kind: 'usage-error', message: errorMessage(error) };
  }
  const { values, positionals } = parsed;
  const [command, file, ...extra] = positionals;
  if (values.help === true || command === 'help') return { kind: 'help' };
  if (command === undefined) return { kind: 'usage-error', message: 'no command given; the command is validate' };
  if (command !== 'validate') return { kind: 'usage-error', message: `unknown command '${command}'; the command is validate` };
  if (extra.length > 0) return { kind: 'usage-error', message: `validate takes one file; got also ${extra.join(' ')}` };

  let secrets: Set<string> | null = null;
  if (values.secrets !== undefined) {
    const names = values.secrets.flatMap((list) => list.split(',')).map((s) => s.trim()).filter((s) => s !== '');
    const bad = names.find((name) => !SECRET_NAME.test(name));
    if (bad !== undefined) return { kind: 'usage-error', message: `--secrets: '${bad}' is not a secret name (letters, digits and _)` };
    secrets = new Set(names);
  }
  const context: Record<string, string> = {};
  for (const entry of values.context ?? []) {
    const at = entry.indexOf('=');
    const key = at < 0 ? entry : entry.slice(0, at);
    if (key.trim() === '') return { kind: 'usage-error', message: `--context: '${entry}' has no key; write --context key=value` };
    context[key] = at < 0 ? '' : entry.slice(at + 1);
  }
  const format = values.format ?? (env.GITHUB_ACTIONS === 'true' ? 'github' : 'text');
  if (format !== 'text' && format !== 'github') return { kind: 'usage-error', message: `--format: expected text or github, got '${format}'` };
  const workspace = values.workspace ?? env.GITHUB_WORKSPACE ?? cwd;
  return { kind: 'validate', options: { file: file ?? 'deploy.yml', secrets, context, workspace, format } };
}
