// `hookgate validate`: the action's own loader on a deployment file, its errors and notices printed as
// the action would report them, nothing contacted. For a pre-commit hook or a CI job without a relay.
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { workspaceFileReader } from '../clients/workspace-files.ts';
import { errorMessage } from '../lib/errors.ts';
import { neutralizeCommands } from '../output/workflow-commands.ts';
import { formatFileError, loadDeploymentFile } from '../plan/load.ts';
import type { FileError } from '../plan/load.ts';
import { parseCommandLine, USAGE } from './args.ts';
import type { ValidateOptions } from './args.ts';

export interface CliIo {
  stdout(line: string): void;
  stderr(line: string): void;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export const EXIT = { valid: 0, invalid: 1, usage: 2 } as const;

/**
 * Every name is a known secret: the values live in GitHub's settings, not in the repository, so
 * the file cannot be checked against them unless `--secrets` lists them.
 */
export class AnySecretName extends Set<string> {
  override has(): boolean {
    return true;
  }
}

// GitHub's escaping of a workflow command's data and properties (@actions/core's command.ts).
const escapeData = (text: string): string => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (text: string): string => escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');

function errorLine(e: FileError, format: ValidateOptions['format']): string {
  if (format === 'text') return neutralizeCommands(formatFileError(e));
  const properties = `file=${escapeProperty(e.file)},line=${e.line},col=${e.col},title=${escapeProperty('Invalid deployment file')}`;
  // The runner also acts on a legacy `##[` anywhere in a line, annotation data included.
  return `::error ${properties}::${escapeData(neutralizeCommands(formatFileError(e)))}`;
}

function noticeLine(text: string, format: ValidateOptions['format']): string {
  return format === 'text' ? neutralizeCommands(`notice: ${text}`) : `::notice::${escapeData(neutralizeCommands(text))}`;
}

/** Loads the file and prints what the loader says; the exit status. */
export async function validate(options: ValidateOptions, io: CliIo): Promise<number> {
  const path = resolve(io.cwd, options.file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    io.stderr(neutralizeCommands(`hookgate validate: cannot read ${options.file}: ${errorMessage(error)}`));
    return EXIT.usage;
  }
  const repository = io.env.GITHUB_REPOSITORY;
  const result = loadDeploymentFile({
    file: options.file,
    text,
    secretNames: options.secrets ?? new AnySecretName(),
    inputContext: options.context,
    defaultApplication: repository ? basename(repository) : basename(resolve(options.workspace)),
    readFile: workspaceFileReader(options.workspace, path),
  });
  if (!result.ok) {
    for (const e of result.errors) io.stdout(errorLine(e, options.format));
    const count = result.errors.length;
    io.stdout(neutralizeCommands(`${options.file}: ${count} error${count === 1 ? '' : 's'}`));
    return EXIT.invalid;
  }
  const { plan } = result;
  for (const notice of plan.notices) io.stdout(noticeLine(notice, options.format));
  const webhooks = Object.keys(plan.webhooks).length;
  const targets = plan.targets.map((t) => t.name).join(', ');
  io.stdout(
    neutralizeCommands(`${options.file} is valid: application ${plan.application}, ${plan.targets.length} target(s) in run order (${targets}), ${webhooks} webhook(s)`),
  );
  return EXIT.valid;
}

/** The whole command: arguments in, exit status out. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(args, io.env, io.cwd);
  switch (parsed.kind) {
    case 'help':
      io.stdout(USAGE);
      return EXIT.valid;
    case 'usage-error':
      io.stderr(`hookgate: ${parsed.message}\n\n${USAGE}`);
      return EXIT.usage;
    case 'validate':
      return validate(parsed.options, io);
  }
}
