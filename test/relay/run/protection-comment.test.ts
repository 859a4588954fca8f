/**
 * The answer to GitHub's deployment protection rule and its comment (relay/run/protection-comment.ts):
 * approved only when every gate succeeded; plain text, one line per gate, within GitHub's 1,024 characters.
 */
import { describe, expect, it } from 'vitest';
import { protectionAnswer } from '../../../relay/run/protection-comment.ts';
import type { CommentGate } from '../../../relay/run/protection-comment.ts';

function gate(overrides: Partial<CommentGate> = {}): CommentGate {
  return { kind: 'webhook', name: 'Ticket', state: 'succeeded', message: 'change CHG-1 approved', decided_by: null, ...overrides };
}

const length = (text: string): number => [...text].length;

describe('the protection rule’s answer', () => {
  it('is approved when every gate succeeded, listing each with its message', () => {
    const answer = protectionAnswer('prod', 'prod', [gate(), gate({ kind: 'approval', name: 'Approval', message: 'LGTM', decided_by: '@mona' })]);
    expect(answer).toEqual({
      environment: 'prod',
      state: 'approved',
      comment: 'hookgate: 2 beforeDeployment gates of prod succeeded.\n- webhook Ticket succeeded: change CHG-1 approved\n- approval Approval succeeded by @mona: LGTM',
    });
  });

  it('is rejected when one failed, timed out or was canceled, naming it', () => {
    for (const state of ['failed', 'timed-out', 'canceled'] as const) {
      const answer = protectionAnswer('prod', 'prod', [gate(), gate({ name: 'Smoke', state, message: 'boom' })]);
      expect(answer.state).toBe('rejected');
      expect(answer.comment).toContain('1 of 2 beforeDeployment gates of prod did not succeed');
      expect(answer.comment).toContain(`- webhook Smoke ${state}: boom`);
    }
  });

  it('is rejected, saying so, when the run registered no gate for the environment', () => {
    for (const [target, gates] of [[null, []], ['prod', []]] as const) {
      const answer = protectionAnswer('prod', target, gates);
      expect(answer.state).toBe('rejected');
      expect(answer.comment).toMatch(/registered no beforeDeployment gate for target prod/);
    }
  });

  it('keeps outside text on one line, unescaped: GitHub shows it as plain text', () => {
    const answer = protectionAnswer('prod', 'prod', [gate({ name: 'A\nB', message: 'line 1\r\n\u2028line 2\u0000 <b>&amp;</b> **x**' })]);
    expect(answer.comment.split('\n')).toHaveLength(2);
    expect(answer.comment).toContain('- webhook A B succeeded: line 1 line 2 <b>&amp;</b> **x**');
    expect([...answer.comment].filter((char) => char !== '\n' && /[\p{Cc}\p{Zl}\p{Zp}]/u.test(char))).toEqual([]);
  });

  it('cuts a long message, so the gates after it still show', () => {
    const answer = protectionAnswer('prod', 'prod', [gate({ message: 'x'.repeat(5000) }), gate({ name: 'Second' })]);
    expect(length(answer.comment)).toBeLessThanOrEqual(1000);
    expect(answer.comment).toContain('- webhook Second succeeded');
    expect(answer.comment).toContain('…');
  });

  it('stays within 1,000 characters for many gates, saying how many more there are', () => {
    const gates = Array.from({ length: 1000 }, (_, i) => gate({ name: `Gate-${i}`, message: '🚀'.repeat(100) }));
    const answer = protectionAnswer('prod', 'prod', gates);
    expect(length(answer.comment)).toBeLessThanOrEqual(1000);
    expect(answer.comment).toMatch(/\n… and \d+ more$/);
    expect(answer.comment).toContain('- webhook Gate-0 succeeded');
    expect(answer.comment.isWellFormed()).toBe(true);
  });
});
