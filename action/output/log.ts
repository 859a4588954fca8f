/** The action's log: GitHub's workflow commands, with secret values redacted first. */
import * as core from '@actions/core';
import type { Redact } from './redact.ts';
import { neutralizeCommands } from './workflow-commands.ts';

export interface Log {
  /** A line of the action's own, which may carry text from outside: never a workflow command. */
  info(message: string): void;
  /**
   * A line the user's own shell command printed: trusted like a `run:` step, so workflow
   * commands in it take effect (its own `::add-mask::`, say). Still redacted.
   */
  commandOutput(line: string): void;
  warning(message: string, properties?: core.AnnotationProperties): void;
  error(message: string, properties?: core.AnnotationProperties): void;
  notice(message: string, properties?: core.AnnotationProperties): void;
  startGroup(title: string): void;
  endGroup(): void;
}

/**
 * A Log over @actions/core: every text is redacted first (so no escaping can disguise a secret),
 * then, except the user's command output, neutralized. Annotations and group titles are one
 * command line whose data core escapes (`%`, `\r`, `\n`), so they could not start a command
 * anyway; neutralizing them too keeps the rule simple.
 */
export function coreLog(redact: Redact): Log {
  const safe = (text: string): string => neutralizeCommands(redact(text));
  return {
    info: (message) => core.info(safe(message)),
    commandOutput: (line) => core.info(redact(line)),
    warning: (message, properties) => core.warning(safe(message), properties),
    error: (message, properties) => core.error(safe(message), properties),
    notice: (message, properties) => core.notice(safe(message), properties),
    startGroup: (title) => core.startGroup(safe(title)),
    endGroup: () => core.endGroup(),
  };
}
