/**
 * The deployment as a Mermaid flowchart for the job summary (GitHub renders ```mermaid blocks):
 * one node per target, coloured by its outcome, an arrow from each dependency to its dependent.
 * Target names come from the deployment file and may come from a pull request: they only ever
 * appear inside a quoted label, escaped, so none can end the label, add a statement, inject HTML
 * or Markdown, or close the fence.
 */
import type { TargetOutcome } from '../engine/report.ts';
import { MAX_GRAPH_TARGETS } from '../../shared/protocol.ts';
import { truncateCodePoints } from '../../shared/text.ts';

/** A target of the plan and the targets it waits for. */
export interface GraphNode {
  name: string;
  dependsOn: readonly string[];
}

/** `elsewhere`: a target of the file that another job runs (one job per environment). */
type NodeState = TargetOutcome | 'elsewhere';

const STYLE: Record<NodeState, { cls: string; icon: string; label: string; def: string }> = {
  succeeded: { cls: 'succeeded', icon: '✅', label: 'succeeded', def: 'fill:#dafbe1,stroke:#1a7f37,color:#0d3b1e' },
  'rolled-back': { cls: 'rolledBack', icon: '↩️', label: 'rolled back', def: 'fill:#fff1e5,stroke:#bc4c00,color:#4a1d00' },
  failed: { cls: 'failed', icon: '❌', label: 'failed', def: 'fill:#ffebe9,stroke:#cf222e,color:#5c0d12' },
  canceled: { cls: 'canceled', icon: '⏹️', label: 'canceled', def: 'fill:#eaeef2,stroke:#6e7781,color:#24292f' },
  parked: { cls: 'parked', icon: '⏸️', label: 'parked', def: 'fill:#ddf4ff,stroke:#0969da,color:#0a3069' },
  elsewhere: { cls: 'elsewhere', icon: '◻️', label: 'in another job', def: 'fill:#ffffff,stroke:#8c959f,color:#57606a,stroke-dasharray:4 3' },
};

/** Longest target name shown in full: a label is a picture, the tables below carry the rest. */
const MAX_LABEL_CHARS = 60;

// Mermaid decodes `#<decimal>;` in labels; these stand for the characters that could end the quoted
// label (`"`), start an entity (`#`, `&`), become HTML (`<`, `>`), open a Markdown label (a backtick)
// or, unquoted, a node shape (brackets).
const ENTITY: Readonly<Record<string, string>> = Object.fromEntries([...'"#&<>`[](){}|;'].map((c) => [c, `#${c.codePointAt(0) ?? 0};`]));

/** A target's name as the text of a quoted Mermaid label: one line, no character Mermaid or HTML would act on. */
export function mermaidLabel(text: string): string {
  const oneLine = text.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').trim();
  const short = [...oneLine].length > MAX_LABEL_CHARS ? `${truncateCodePoints(oneLine, MAX_LABEL_CHARS - 1)}…` : oneLine;
  return short.replace(/["#&<>`[\](){}|;]/g, (c) => ENTITY[c] ?? ' ');
}

/**
 * The flowchart's lines (inside the fence), or none when there is nothing to draw or too much for a picture.
 * `graph`: every target of the file in run order; `outcomes`: those this job ran.
 */
export function mermaidGraph(graph: readonly GraphNode[], outcomes: ReadonlyMap<string, TargetOutcome>): string[] {
  if (graph.length === 0 || graph.length > MAX_GRAPH_TARGETS) return [];
  const ids = new Map(graph.map((node, i) => [node.name, `t${i}`]));
  const lines = ['flowchart LR'];
  const used = new Set<NodeState>();
  graph.forEach((node, i) => {
    const state: NodeState = outcomes.get(node.name) ?? 'elsewhere';
    const style = STYLE[state];
    used.add(state);
    lines.push(`  t${i}["${style.icon} ${mermaidLabel(node.name)}: ${style.label}"]:::${style.cls}`);
  });
  graph.forEach((node, i) => {
    for (const dep of new Set(node.dependsOn)) {
      const from = ids.get(dep);
      if (from !== undefined) lines.push(`  ${from} --> t${i}`);
    }
  });
  for (const state of used) lines.push(`  classDef ${STYLE[state].cls} ${STYLE[state].def}`);
  return lines;
}
