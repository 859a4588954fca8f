/**
 * How much of a gate one approval page shows (relay/approval/page-bounds.ts). The run object
 * reads no more than this for a page: a target's gates may hold 50 reports of 16 KiB each,
 * which the page would only throw away after the RPC had carried them.
 */

/** Most progress reports shown per gate: the latest ones. */
export const MAX_REPORTS_SHOWN = 5;
/** Longest message shown, in code points: an approval comment (2000 characters) fits whole. */
export const MAX_MESSAGE_CODE_POINTS = 2000;
