/**
 * What the approval page says of a webhook gate beyond its message (issue 13): the outputs its
 * decision handed on, and, while it waits with a heartbeatTimeout, when its system was last heard.
 */
import type { GateView, OutputValue } from '../../shared/protocol.ts';
import { durationText } from '../run/heartbeats.ts';
import { MAX_OUTPUT_VALUE_CODE_POINTS, MAX_OUTPUTS_SHOWN } from '../run/page-limits.ts';
import { truncateCodePoints } from '../../shared/text.ts';
import { escapeHtml } from './html.ts';

const ALL_OF_THEM = 'the action’s <code>outputs</code> output has them all';

/** The page's CSS for the outputs table. */
export const DETAILS_STYLE = `
  table.outputs { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
  table.outputs caption { text-align: left; color: #5b6475; }
  table.outputs th, table.outputs td { border: 1px solid #d8dce3; padding: .2rem .5rem; text-align: left; vertical-align: top; }
  table.outputs th { overflow-wrap: break-word; } table.outputs td { overflow-wrap: anywhere; }
`;

/** A decided gate's outputs as a table, every value as text, at most MAX_OUTPUTS_SHOWN; '' without outputs. */
export function outputsTable(gate: GateView): string {
  const entries = Object.entries(gate.outputs ?? {});
  if (entries.length === 0) return '';
  const rows = entries
    .slice(0, MAX_OUTPUTS_SHOWN)
    .map(([key, value]) => `<tr><th scope="row"><code>${escapeHtml(key)}</code></th><td>${valueText(value)}</td></tr>`);
  const more = entries.length > MAX_OUTPUTS_SHOWN ? `<p class="note">More outputs not shown: ${ALL_OF_THEM}.</p>` : '';
  return `<table class="outputs"><caption>Outputs</caption>${rows.join('')}</table>${more}`;
}

/** A value as text; a long string cut (the action's `outputs` output has it whole). */
function valueText(value: OutputValue): string {
  if (typeof value !== 'string') return escapeHtml(String(value));
  const shown = truncateCodePoints(value, MAX_OUTPUT_VALUE_CODE_POINTS, '…');
  return shown === value ? escapeHtml(value) : `${escapeHtml(shown)} <span class="note">(cut)</span>`;
}

/** For a pending gate with a heartbeatTimeout: when it was last heard and how much silence fails it; '' otherwise. */
export function heartbeatNote(gate: GateView): string {
  if (gate.state !== 'pending' || gate.heartbeatSeconds === null) return '';
  const allowed = `${durationText(gate.heartbeatSeconds)} (heartbeatTimeout)`;
  if (gate.lastHeardAt === null) {
    return `<p class="note">Once its webhook is called, it fails if nothing is heard for ${allowed}.</p>`;
  }
  const heard = new Date(gate.lastHeardAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `<p class="note">Last heard <time>${heard}</time>; it fails if nothing is heard for ${allowed}.</p>`;
}
