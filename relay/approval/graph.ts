/**
 * The deployment as a picture on the approval page (issue 13): plain server-rendered HTML, no
 * script and no SVG, so the page's CSP stays as it is. Targets stand in columns by dependency depth
 * (a target one column right of the furthest target it waits for); each says its state in words,
 * the colour only repeats it. Its size is bounded by the registration body (64 KiB) that carried the graph.
 */
import type { PageGraphTarget } from '../run/results.ts';
import { escapeHtml } from './html.ts';

/** The state as the page says it. */
const LABELS: Record<PageGraphTarget['state'], string> = {
  unknown: 'not started',
  running: 'running',
  parked: 'parked, waiting',
  succeeded: 'succeeded',
  'rolled-back': 'rolled back',
  failed: 'failed',
  canceled: 'canceled',
};

/** The picture's CSS, for the page's one style element (CSP: inline styles only, nothing else). */
export const GRAPH_STYLE = `
  ol.graph { display: flex; gap: .75rem; overflow-x: auto; list-style: none; padding: 0; margin: .5rem 0; }
  ol.graph > li { flex: 0 0 auto; min-width: 9rem; max-width: 16rem; }
  ol.graph ul { list-style: none; padding: 0; margin: 0; }
  .target { background: #fff; border: 1px solid #d8dce3; border-left: 6px solid #d8dce3; border-radius: 6px;
    padding: .4rem .6rem; margin: .4rem 0; overflow-wrap: anywhere; }
  .target.this { outline: 2px solid #4b6bfb; }
  .target-running { border-left-color: #4b6bfb; } .target-parked { border-left-color: #8250df; }
  .target-succeeded { border-left-color: #1f883d; } .target-rolled-back { border-left-color: #bf8700; }
  .target-failed { border-left-color: #cf222e; } .target-canceled { border-left-color: #6e7781; }
`;

/** The section drawing `graph`, marking `current` (the page's target); '' without a graph. */
export function graphSection(graph: readonly PageGraphTarget[] | null | undefined, current: string): string {
  if (!graph || graph.length === 0) return '';
  const columns: PageGraphTarget[][] = [];
  const depths = depthsOf(graph);
  for (const target of unique(graph)) (columns[depths.get(target.name) ?? 0] ??= []).push(target);
  const items = columns.map(
    (column, index) =>
      `<li><p class="note">Step ${index + 1}</p><ul>${column.map((target) => targetItem(target, target.name === current)).join('')}</ul></li>`,
  );
  return `<h2 id="deployment">Deployment</h2>
<ol class="graph" aria-labelledby="deployment">${items.join('\n')}</ol>`;
}

function targetItem(target: PageGraphTarget, current: boolean): string {
  const after = target.dependsOn.length === 0 ? '' : `<br><span class="note">after ${target.dependsOn.map(escapeHtml).join(', ')}</span>`;
  const here = current ? ' <span class="note">(this approval)</span>' : '';
  return (
    `<li class="target target-${target.state}${current ? ' this' : ''}"><strong>${escapeHtml(target.name)}</strong>${here}` +
    `<br><span class="state">${LABELS[target.state]}</span>${after}</li>`
  );
}

/** The first entry of each name: a graph naming a target twice is drawn once. */
function unique(graph: readonly PageGraphTarget[]): PageGraphTarget[] {
  const seen = new Set<string>();
  return graph.filter((target) => !seen.has(target.name) && seen.add(target.name));
}

/**
 * Each target's column: 0 without a dependency in the graph, else one past its deepest one. The
 * action refuses cycles; should one arrive, the edge that closes it counts as none.
 */
function depthsOf(graph: readonly PageGraphTarget[]): Map<string, number> {
  const byName = new Map(unique(graph).map((target) => [target.name, target]));
  const depths = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (name: string): number => {
    const known = depths.get(name);
    if (known !== undefined) return known;
    const target = byName.get(name);
    if (!target || visiting.has(name)) return -1;
    visiting.add(name);
    const deepest = Math.max(-1, ...target.dependsOn.map(depth));
    visiting.delete(name);
    depths.set(name, deepest + 1);
    return deepest + 1;
  };
  for (const name of byName.keys()) depth(name);
  return depths;
}
