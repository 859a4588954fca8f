/** What a running step prints, collected as it comes, with waits for a line to appear. */
import type { Readable } from 'node:stream';

export interface StepOutput {
  /** Everything printed so far. */
  text(): string;
  /** Resolves with the first match of `pattern`; rejects after `timeoutMs` or when `ended` settles first. */
  waitFor(pattern: RegExp, timeoutMs: number, ended: Promise<unknown>): Promise<string>;
}

/** Collects `stream`, calling `onLine` with each complete line. */
export function collectOutput(stream: Readable, onLine?: (line: string) => void): StepOutput {
  let text = '';
  let partial = '';
  const listeners = new Set<() => void>();
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
    if (onLine) {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    }
    for (const listener of listeners) listener();
  });
  return {
    text: () => text,
    waitFor(pattern, timeoutMs, ended) {
      return new Promise((resolve, reject) => {
        const stop = (): void => {
          listeners.delete(check);
          clearTimeout(timer);
        };
        const check = (): void => {
          const match = pattern.exec(text);
          if (match) {
            stop();
            resolve(match[0]);
          }
        };
        const timer = setTimeout(() => {
          stop();
          reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms; output so far:\n${text}`));
        }, timeoutMs);
        listeners.add(check);
        check();
        // Settled either way: the step's end means nothing more will be printed.
        const gone = (): void => {
          if (!listeners.has(check)) return;
          stop();
          reject(new Error(`the action ended without printing ${pattern}; output:\n${text}`));
        };
        void ended.then(gone, gone);
      });
    },
  };
}
