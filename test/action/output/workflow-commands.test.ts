import { describe, expect, it } from 'vitest';
import { commandSafeJson, neutralizeCommands } from '../../../action/output/workflow-commands.ts';
import { runnerCommandLines } from './runner-commands.ts';

/** Lines an external system may send to smuggle a command in: each alone and after other text. */
const ATTACKS = [
  '::add-mask::hunter2',
  '::stop-commands::abc',
  '::error file=.github/workflows/deploy.yml,line=1::pwned',
  '   ::warning::leading spaces',
  '\t::notice::leading tab',
  '\u00a0\u2003::debug::Unicode spaces the runner trims',
  '\u0085::set-env name=X::next line, which .NET counts as whitespace',
  '##[set-output name=x;]legacy',
  'text before ##[error]legacy anywhere in a line',
];

describe('neutralizeCommands', () => {
  it.each(ATTACKS)('leaves no workflow command in %j', (attack) => {
    const text = neutralizeCommands(attack);
    expect(runnerCommandLines(text)).toEqual([]);
    // Only zero-width spaces were added: the line reads the same.
    expect(text.replaceAll('\u200B', '')).toBe(attack);
  });

  it('neutralizes every line, whatever ends it (\\n, \\r\\n, a lone \\r)', () => {
    const text = neutralizeCommands(`progress\n::add-mask::a\r\n::add-mask::b\r::add-mask::c\n\n ##[group]d`);
    expect(runnerCommandLines(text)).toEqual([]);
    expect(text.split(/\r\n|\r|\n/)).toHaveLength(6);
  });

  it('leaves ordinary text alone, colons and hashes elsewhere included', () => {
    const text = 'deployed: 3 pods :: ready\n# heading ## not a command [x]\nhttp://host:80/';
    expect(neutralizeCommands(text)).toBe(text);
  });
});

describe('commandSafeJson', () => {
  it('writes no legacy command into JSON, and parses back to the same value', () => {
    const value = { message: 'a ##[error]b\n::add-mask::c', nested: ['##[', '###['] };
    const json = commandSafeJson(value);
    expect(runnerCommandLines(json)).toEqual([]);
    expect(JSON.parse(json)).toEqual(value);
  });
});
