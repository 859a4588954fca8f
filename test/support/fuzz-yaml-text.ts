/**
 * The text mutations of the loader fuzz: lines deleted, doubled, swapped or re-indented, bytes
 * and control characters, BOMs, line endings, tabs, YAML directives and broken templates. Erasable
 * TypeScript only: the loader fuzz imports it in a plain Node worker thread.
 */
import { isScalar } from 'yaml';
import { asciiString, bytesAsText, INVALID_UTF8 } from './fuzz-random.ts';
import type { Rng } from './fuzz-random.ts';
import { structural, valueSlots } from './fuzz-yaml-structure.ts';

/** The mutations that edit the text as text. Their order is part of every generated case: reordering replays differently. */
export const TEXT_KINDS = [
  'delete-lines', 'duplicate-lines', 'swap-lines', 'shuffle-lines', 'reindent', 'truncate', 'random-bytes', 'invalid-utf8',
  'control-chars', 'bom', 'crlf', 'tabs', 'multi-document', 'template-garbage',
] as const;
export type TextKind = (typeof TEXT_KINDS)[number];

function lineEdit(text: string, edit: (lines: string[]) => void): string {
  const lines = text.split('\n');
  edit(lines);
  return lines.join('\n');
}

function insertAt(rng: Rng, text: string, insert: string): string {
  const at = rng.int(text.length + 1);
  return text.slice(0, at) + insert + text.slice(at);
}

const TEMPLATE_GARBAGE = [
  '{{', '}}', '{{}}', '{{ }}', '{{{x}}}', '{{#each x}}', '{{/each}}', '{{secrets.}}', '{{ secrets.nope }}', '{{armory.callbackUri',
  '{{a b}}', '{{context.}}', '{{{{{{', '{{ armory.callbackUri }}{{', '}}{{', '{{\n}}', '{{context.__proto__}}', '{{secrets.constructor}}',
  '{{secrets.toString}}', '{{context.hasOwnProperty}}', '{{armory}}', '{{ARMORY.CALLBACKURI}}', '{{hookgate.approvalUrl}}',
  '{{github.sha}}{{github.sha}}', '{{ context.team }}', '{{\u0000}}', '{{🚀}}', '{{%}}', '{{..}}', '{{.}}',
];

function templateGarbage(rng: Rng): string {
  if (rng.chance(0.1)) return '{{'.repeat(rng.range(100, 3000));
  return Array.from({ length: rng.range(1, 3) }, () => rng.pick(TEMPLATE_GARBAGE)).join(rng.pick(['', ' ', 'x', '/']));
}

/** One function per kind, each drawing from `rng` exactly as it always has (a replayed case must come out the same). */
const TEXT_MUTATIONS: Record<TextKind, (rng: Rng, text: string) => string | undefined> = {
  'delete-lines': (rng, text) => {
    return lineEdit(text, (lines) => {
      const at = rng.int(lines.length);
      lines.splice(at, rng.range(1, 3));
    });
  },
  'duplicate-lines': (rng, text) => {
    return lineEdit(text, (lines) => {
      const at = rng.int(lines.length);
      const block = lines.slice(at, at + rng.range(1, 4));
      lines.splice(rng.chance(0.5) ? at : rng.int(lines.length + 1), 0, ...block);
    });
  },
  'swap-lines': (rng, text) => {
    return lineEdit(text, (lines) => {
      const i = rng.int(lines.length);
      const j = rng.int(lines.length);
      [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
    });
  },
  'shuffle-lines': (rng, text) => {
    return lineEdit(text, (lines) => {
      if (rng.chance(0.05)) {
        rng.shuffle(lines);
        return;
      }
      const at = rng.int(lines.length);
      const block = lines.splice(at, rng.range(2, 8));
      lines.splice(at, 0, ...rng.shuffle(block));
    });
  },
  'reindent': (rng, text) => {
    return lineEdit(text, (lines) => {
      if (rng.chance(0.15)) {
        // Scaling all indentation keeps the file valid: the loader must read it the same.
        const factor = rng.range(2, 4);
        lines.forEach((l, i) => (lines[i] = ' '.repeat((l.length - l.trimStart().length) * factor) + l.trimStart()));
        return;
      }
      const at = rng.int(lines.length);
      for (let i = at; i < Math.min(lines.length, at + rng.range(1, 5)); i++) {
        const line = lines[i] ?? '';
        const indent = line.length - line.trimStart().length;
        lines[i] = ' '.repeat(Math.max(0, rng.chance(0.2) ? 0 : indent + rng.pick([-4, -2, -1, 1, 2, 3, 8]))) + line.trimStart();
      }
    });
  },
  'truncate': (rng, text) => {
    return text.slice(0, rng.int(text.length));
  },
  'random-bytes': (rng, text) => {
    const insert = bytesAsText(rng, rng.range(1, 48));
    if (rng.chance(0.3)) {
      const at = rng.int(text.length);
      return text.slice(0, at) + insert + text.slice(at + rng.range(1, 40));
    }
    return insertAt(rng, text, insert);
  },
  'invalid-utf8': (rng, text) => {
    const bytes = new TextEncoder().encode(text);
    const out: number[] = Array.from(bytes);
    for (let n = rng.range(1, 6); n > 0; n--) out.splice(rng.int(out.length + 1), 0, ...rng.pick(INVALID_UTF8));
    // As readFile(path, 'utf8') reads it: every bad sequence becomes U+FFFD.
    return new TextDecoder('utf-8').decode(new Uint8Array(out));
  },
  'control-chars': (rng, text) => {
    let out = text;
    const chars = ['\u0000', '\u0001', '\u0007', '\b', '\v', '\f', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029', '\ufeff', '\u200b', '\r', '\ud800'];
    for (let n = rng.range(1, 5); n > 0; n--) out = insertAt(rng, out, rng.pick(chars));
    return out;
  },
  'bom': (rng, text) => {
    switch (rng.int(3)) {
      case 0:
        return `\ufeff${text}`;
      case 1:
        return `\ufeff\ufeff${text}`;
      default:
        return lineEdit(text, (lines) => {
          const at = rng.int(lines.length);
          lines[at] = `\ufeff${lines[at] ?? ''}`;
        });
    }
  },
  'crlf': (rng, text) => {
    switch (rng.int(3)) {
      case 0:
        return text.replace(/\n/g, '\r\n');
      case 1:
        return text.replace(/\n/g, () => (rng.chance(0.5) ? '\r\n' : '\n'));
      default:
        return text.replace(/\n/g, '\r');
    }
  },
  'tabs': (rng, text) => {
    return lineEdit(text, (lines) => {
      const all = rng.chance(0.3);
      lines.forEach((l, i) => {
        if (!all && !rng.chance(0.1)) return;
        lines[i] = rng.chance(0.5) ? l.replace(/^( {2})+/, (m) => '\t'.repeat(m.length / 2)) : l.replace(/: /, ':\t');
      });
    });
  },
  'multi-document': (rng, text) => {
    switch (rng.int(6)) {
      case 0:
        return `${text}\n---\n${text}`;
      case 1:
        return `---\n${text}`;
      case 2:
        return `${text}\n...\n${asciiString(rng)}`;
      case 3:
        return `%YAML 1.2\n---\n${text}`;
      case 4:
        return `%TAG ! tag:example.com,2000:\n%YAML 1.1\n---\n${text}\n---\n`;
      default:
        return lineEdit(text, (lines) => lines.splice(rng.int(lines.length), 0, rng.pick(['---', '...', '--- |', '--- >', '--- !foo', '%YAML 1.2'])));
    }
  },
  'template-garbage': (rng, text) => {
    const garbage = templateGarbage(rng);
    const templates = [...text.matchAll(/\{\{[^}\n]*\}\}/g)];
    if (templates.length > 0 && rng.chance(0.8)) {
      const m = rng.pick(templates);
      return text.slice(0, m.index) + garbage + text.slice(m.index + m[0].length);
    }
    return structural(rng, text, (_doc, slots, raw) => {
      const scalars = valueSlots(slots).filter((s) => isScalar(s.node));
      if (scalars.length === 0) return;
      const slot = rng.pick(scalars);
      slot.set(raw(JSON.stringify(`${isScalar(slot.node) ? String(slot.node.value) : ''}${garbage}`)));
    });
  },
};

/** Applies one text mutation; undefined when it does not apply to this text. */
export function mutateText(rng: Rng, text: string, kind: TextKind): string | undefined {
  return TEXT_MUTATIONS[kind](rng, text);
}
