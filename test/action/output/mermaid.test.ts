import { describe, expect, it } from 'vitest';
import type { TargetOutcome } from '../../../action/engine/report.ts';
import { mermaidGraph, mermaidLabel } from '../../../action/output/mermaid.ts';
import type { GraphNode } from '../../../action/output/mermaid.ts';

const node = (name: string, dependsOn: string[] = []): GraphNode => ({ name, dependsOn });
const outcomes = (entries: [string, TargetOutcome][]): Map<string, TargetOutcome> => new Map(entries);

/** What Mermaid shows for a label: its `#<decimal>;` entity codes decoded. */
const shown = (label: string): string => label.replace(/#(\d+);/g, (_m, code: string) => String.fromCodePoint(Number(code)));

// A node line: an id we made, one quoted label without a quote inside, one class of ours.
const NODE_LINE = /^ {2}t\d+\["[^"\n]*"\]:::[a-zA-Z]+$/;

const HOSTILE = [
  'prod"]:::x\n  click t0 "https://evil.example"',
  'a"] --> t1["b',
  '```\n## Injected heading',
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  'x#quot;y',
  '`**markdown string**`',
  'name; style t0 fill:#f00',
  'tab\tand\r\ncrlf\u2028line sep',
  '[link](javascript:alert(1))',
  '%%{init: {"theme": "dark"}}%%',
  'a|b{c}(d)',
  '&lt;b&gt;',
];

describe('mermaidLabel', () => {
  it.each(HOSTILE)('keeps %j inert and readable', (name) => {
    const label = mermaidLabel(name);
    // Nothing that could end the quoted label, open HTML or Markdown, start a statement or a new line.
    // Every #, & and ; is part of an entity code we wrote.
    expect(label.replace(/#\d+;/g, '')).not.toMatch(/["<>`[\](){}|;#&\n\r\u2028\u2029]/);
    expect(shown(label)).toBe(name.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').trim());
  });

  it('shortens a long name to 60 characters with an ellipsis', () => {
    const label = mermaidLabel('x'.repeat(500));
    expect(label).toBe(`${'x'.repeat(59)}…`);
  });

  it('leaves plain names as they are', () => {
    expect(mermaidLabel('us-east-1.prod_2')).toBe('us-east-1.prod_2');
  });
});

describe('mermaidGraph', () => {
  it('draws one node per target with its outcome in the label and class, and an arrow per dependency', () => {
    const lines = mermaidGraph(
      [node('staging'), node('prod-eu', ['staging']), node('prod-us', ['staging']), node('smoke', ['prod-eu', 'prod-us'])],
      outcomes([
        ['staging', 'succeeded'],
        ['prod-eu', 'failed'],
        ['prod-us', 'rolled-back'],
        ['smoke', 'canceled'],
      ]),
    );
    expect(lines).toEqual([
      'flowchart LR',
      '  t0["✅ staging: succeeded"]:::succeeded',
      '  t1["❌ prod-eu: failed"]:::failed',
      '  t2["↩️ prod-us: rolled back"]:::rolledBack',
      '  t3["⏹️ smoke: canceled"]:::canceled',
      '  t0 --> t1',
      '  t0 --> t2',
      '  t1 --> t3',
      '  t2 --> t3',
      '  classDef succeeded fill:#dafbe1,stroke:#1a7f37,color:#0d3b1e',
      '  classDef failed fill:#ffebe9,stroke:#cf222e,color:#5c0d12',
      '  classDef rolledBack fill:#fff1e5,stroke:#bc4c00,color:#4a1d00',
      '  classDef canceled fill:#eaeef2,stroke:#6e7781,color:#24292f',
    ]);
  });

  it('shows targets another job runs as such, and a parked target as parked', () => {
    const lines = mermaidGraph([node('staging'), node('prod', ['staging'])], outcomes([['prod', 'parked']]));
    expect(lines).toContain('  t0["◻️ staging: in another job"]:::elsewhere');
    expect(lines).toContain('  t1["⏸️ prod: parked"]:::parked');
    expect(lines).toContain('  t0 --> t1');
    expect(lines.filter((l) => l.startsWith('  classDef '))).toHaveLength(2);
  });

  it('ignores a dependency on a name it does not draw, and repeats of one', () => {
    const lines = mermaidGraph([node('prod', ['ghost', 'prod-x', 'prod-x']), node('prod-x')], outcomes([]));
    expect(lines.filter((l) => l.includes('-->'))).toEqual(['  t1 --> t0']);
  });

  it('never lets a hostile target name add a line, a statement or a node of its own', () => {
    const graph = HOSTILE.map((name, i) => node(name, i === 0 ? [] : [HOSTILE[i - 1] ?? '']));
    const lines = mermaidGraph(graph, outcomes(HOSTILE.map((name) => [name, 'succeeded'])));
    const nodes = lines.filter((l) => l.startsWith('  t') && !l.includes('-->'));
    expect(nodes).toHaveLength(HOSTILE.length);
    for (const line of nodes) expect(line).toMatch(NODE_LINE);
    expect(lines.filter((l) => l.includes('-->'))).toEqual(HOSTILE.slice(1).map((_n, i) => `  t${i} --> t${i + 1}`));
    expect(lines.join('\n')).not.toContain('```');
  });

  it('draws nothing for no targets or more than the page can picture', () => {
    expect(mermaidGraph([], outcomes([]))).toEqual([]);
    expect(mermaidGraph(Array.from({ length: 101 }, (_v, i) => node(`t${i}`)), outcomes([]))).toEqual([]);
    expect(mermaidGraph(Array.from({ length: 100 }, (_v, i) => node(`t${i}`)), outcomes([]))).toHaveLength(1 + 100 + 1);
  });
});
