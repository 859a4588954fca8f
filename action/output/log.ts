/** The action's log: GitHub's workflow commands, with secret values redacted first. */
import * as core from '@actions/core';
import type { Redact } from './redact.ts';

export interface Log {
  info(message: string): void;
  warning(message: string, properties?: core.AnnotationProperties): void;
  error(message: string, properties?: core.AnnotationProperties): void;
  notice(message: string, properties?: core.AnnotationProperties): void;
  startGroup(title: string): void;
  endGroup(): void;
}

/** A Log over @actions/core; every line passes through `redact`. */
export function coreLog(redact: Redact): Log {
  return {
    info: (message) => core.info(redact(message)),
    warning: (message, properties) => core.warning(redact(message), properties),
    error: (message, properties) => core.error(redact(message), properties),
    notice: (message, properties) => core.notice(redact(message), properties),
    startGroup: (title) => core.startGroup(redact(title)),
    endGroup: () => core.endGroup(),
  };
}
