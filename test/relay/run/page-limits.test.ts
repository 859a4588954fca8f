/** Which of a target's gates an approval page lists (relay/run/page-limits.ts gateWindow). */
import { describe, expect, it } from 'vitest';
import { gateWindow, MAX_GATES_SHOWN } from '../../../relay/run/page-limits.ts';

describe('gateWindow', () => {
  it('lists 10 gates around this one and counts how many it leaves out on each side', () => {
    expect(MAX_GATES_SHOWN).toBe(10);
    expect(gateWindow(30, 20)).toEqual({ offset: 15, limit: 10, hiddenBefore: 15, hiddenAfter: 5 });
  });

  it('keeps the window inside the list at either end', () => {
    expect(gateWindow(30, 0)).toEqual({ offset: 0, limit: 10, hiddenBefore: 0, hiddenAfter: 20 });
    expect(gateWindow(30, 3)).toEqual({ offset: 0, limit: 10, hiddenBefore: 0, hiddenAfter: 20 });
    expect(gateWindow(30, 27)).toEqual({ offset: 20, limit: 10, hiddenBefore: 20, hiddenAfter: 0 });
    expect(gateWindow(30, 29)).toEqual({ offset: 20, limit: 10, hiddenBefore: 20, hiddenAfter: 0 });
  });

  it('lists every gate when there are 10 or fewer', () => {
    expect(gateWindow(10, 3)).toEqual({ offset: 0, limit: 10, hiddenBefore: 0, hiddenAfter: 0 });
    expect(gateWindow(1, 0)).toEqual({ offset: 0, limit: 1, hiddenBefore: 0, hiddenAfter: 0 });
  });

  it('lists at most 10 of the most gates a run holds, whatever the position asked', () => {
    expect(gateWindow(1000, 500)).toEqual({ offset: 495, limit: 10, hiddenBefore: 495, hiddenAfter: 495 });
    expect(gateWindow(11, 99)).toEqual({ offset: 1, limit: 10, hiddenBefore: 1, hiddenAfter: 0 });
    expect(gateWindow(11, -1)).toEqual({ offset: 0, limit: 10, hiddenBefore: 0, hiddenAfter: 1 });
  });
});
