/**
 * How much of a target's gates one approval page shows (relay/approval/page-bounds.ts). The run
 * object reads and sends no more than this for a page: a target may hold MAX_GATES_PER_RUN gates
 * of one attempt, each with 50 reports of 16 KiB, which the page would only throw away after the
 * RPC had carried them.
 */
import type { Outputs } from '../../shared/protocol.ts';
import { truncateCodePoints } from '../../shared/text.ts';

/** Most gates one page lists (a target's gates of one attempt; most targets have a handful). */
export const MAX_GATES_SHOWN = 10;
/** Most progress reports shown per gate: the latest ones. */
export const MAX_REPORTS_SHOWN = 5;
/** Longest message shown, in code points: an approval comment (2000 characters) fits whole. */
export const MAX_MESSAGE_CODE_POINTS = 2000;

/** Which of `count` ordered gates a page lists: `limit` consecutive ones from `offset`, and how many it leaves out on each side. */
type GateWindow = { offset: number; limit: number; hiddenBefore: number; hiddenAfter: number };

/**
 * The window of at most MAX_GATES_SHOWN consecutive gates of `count` around the one at `current`
 * (0-based): centred on it where it can be, kept inside the list at either end.
 */
export function gateWindow(count: number, current: number): GateWindow {
  if (count <= MAX_GATES_SHOWN) return { offset: 0, limit: count, hiddenBefore: 0, hiddenAfter: 0 };
  const at = Math.min(Math.max(0, current), count - 1);
  const offset = Math.min(Math.max(0, at - Math.floor(MAX_GATES_SHOWN / 2)), count - MAX_GATES_SHOWN);
  return { offset, limit: MAX_GATES_SHOWN, hiddenBefore: offset, hiddenAfter: count - offset - MAX_GATES_SHOWN };
}

/**
 * Most outputs shown per gate, and the longest value shown, in code points: an id, a version or a
 * short URL fits whole. Worst case 10 gates × 20 × (120 code points × 6 bytes escaped + a 64-character
 * key + markup) ≈ 250 KB of HTML; the action's `outputs` output has them whole.
 */
export const MAX_OUTPUTS_SHOWN = 20;
export const MAX_OUTPUT_VALUE_CODE_POINTS = 120;

/**
 * A decision's outputs as a page reads them: one more than MAX_OUTPUTS_SHOWN, every string value
 * cut one code point past what it shows, so the page can tell a cut (50 values of up to 64 KiB would
 * otherwise cross the RPC whole for each gate).
 */
export function cutOutputs(outputs: Outputs | null): Outputs | null {
  if (outputs === null) return null;
  const cut = Object.entries(outputs)
    .slice(0, MAX_OUTPUTS_SHOWN + 1)
    .map(([key, value]) => [key, typeof value === 'string' ? truncateCodePoints(value, MAX_OUTPUT_VALUE_CODE_POINTS + 1) : value]);
  return Object.fromEntries(cut) as Outputs;
}
