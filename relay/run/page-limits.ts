/**
 * How much of a target's gates one approval page shows (relay/approval/page-bounds.ts). The run
 * object reads and sends no more than this for a page: a target may hold MAX_GATES_PER_RUN gates
 * of one attempt, each with 50 reports of 16 KiB, which the page would only throw away after the
 * RPC had carried them.
 */

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
