/**
 * What the relay answers GitHub's deployment protection rule for one environment: `approved`
 * when every beforeDeployment gate of the target's latest attempt succeeded, else `rejected`,
 * with a comment listing each gate's state and message. GitHub shows the comment as plain text
 * (at most 1,024 characters): one line per gate, control characters and line breaks inside a
 * message flattened to spaces, nothing escaped (an `&amp;` would show as such), cut to fit.
 */
import type { GateKind, GateState } from '../../shared/protocol.ts';
import { truncateCodePoints } from '../../shared/text.ts';
import { MAX_PROTECTION_COMMENT_CHARS } from '../github/protection-callback.ts';
import type { ProtectionAnswer } from '../github/protection-callback.ts';

/** A decided gate as the comment names it. */
export type CommentGate = { kind: GateKind; name: string; state: GateState; message: string | null; decided_by: string | null };

/** Longest single message in the comment, so one long message cannot hide the gates after it. */
const MAX_LINE_CHARS = 300;

/** The answer for `environment` once its gates (all final) are known; no gates: rejected, saying so. */
export function protectionAnswer(environment: string, target: string | null, gates: readonly CommentGate[]): ProtectionAnswer {
  if (target === null || gates.length === 0) {
    const comment = `hookgate: this run registered no beforeDeployment gate for target ${plain(environment)}, so nothing approves deploying to it.`;
    return { environment, state: 'rejected', comment: truncateCodePoints(comment, MAX_PROTECTION_COMMENT_CHARS, '…') };
  }
  const passed = gates.every((gate) => gate.state === 'succeeded');
  const failed = gates.filter((gate) => gate.state !== 'succeeded').length;
  const summary = passed
    ? `hookgate: ${count(gates.length)} of ${plain(target)} succeeded.`
    : `hookgate: ${failed} of ${count(gates.length)} of ${plain(target)} did not succeed.`;
  const lines = [summary, ...gates.map(gateLine)];
  return { environment, state: passed ? 'approved' : 'rejected', comment: fitted(lines) };
}

/** `webhook Ticket succeeded: change CHG-1 approved`; an approval's decider after its state. */
function gateLine(gate: CommentGate): string {
  const by = gate.decided_by ? ` by ${plain(gate.decided_by)}` : '';
  const message = gate.message ? `: ${plain(gate.message)}` : '';
  return truncateCodePoints(`- ${gate.kind} ${plain(gate.name)} ${gate.state}${by}${message}`, MAX_LINE_CHARS, '…');
}

/** The lines joined, cut at the limit; when lines are left out, the comment says how many. */
function fitted(lines: readonly string[]): string {
  const sizes = lines.map((line) => [...line].length);
  const total = sizes.reduce((sum, size) => sum + size, 0) + lines.length - 1;
  if (total <= MAX_PROTECTION_COMMENT_CHARS) return lines.join('\n');
  // The summary line always fits (it is short); then whole gate lines while the "and N more" note still fits.
  let used = sizes[0] ?? 0;
  let shown = 1;
  while (shown < lines.length) {
    const note = `\n… and ${lines.length - shown - 1} more`.length;
    if (used + 1 + (sizes[shown] ?? 0) + note > MAX_PROTECTION_COMMENT_CHARS) break;
    used += 1 + (sizes[shown] ?? 0);
    shown += 1;
  }
  return truncateCodePoints(`${lines.slice(0, shown).join('\n')}\n… and ${lines.length - shown} more`, MAX_PROTECTION_COMMENT_CHARS, '…');
}

function count(gates: number): string {
  return gates === 1 ? '1 beforeDeployment gate' : `${gates} beforeDeployment gates`;
}

/** Text from outside on one line: control characters, line and paragraph separators become spaces, runs of them one. */
function plain(text: string): string {
  return text.replace(/[\p{Cc}\p{Zl}\p{Zp}\s]+/gu, ' ').trim();
}
