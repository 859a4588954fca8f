/** `npx hookgate validate [file]` (dist/cli.js, package.json's bin): see action/cli/args.ts for the options. */
import { runCli } from './cli/validate.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  cwd: process.cwd(),
});
