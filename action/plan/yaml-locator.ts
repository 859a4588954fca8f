import { isAlias, isMap, isScalar, isSeq, visit } from 'yaml';
import type { Alias, Document, LineCounter, Node } from 'yaml';

/** One step into a parsed YAML value: a map key or a list index. */
export type Segment = string | number;
export type Path = readonly Segment[];

/** 1-based, as editors and GitHub annotations count. */
export interface Position {
  line: number;
  col: number;
}

/** Places a path in the file: at its key (for an unknown or misplaced field) or at its value. */
export type Locate = (path: Path, at: 'key' | 'value') => Position;

/** Formats a path as `targets.prod.constraints.dependsOn[0]`, quoting keys that are not plain names. */
export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The offset where a node starts in the text; undefined when it has no useful place of its own. */
export function rangeStart(node: unknown): number | undefined {
  if (node === null || typeof node !== 'object' || !('range' in node)) return undefined;
  const range: unknown = node.range;
  if (!Array.isArray(range) || typeof range[0] !== 'number') return undefined;
  // An empty value (`key:` and nothing) has a zero-length range; its key is the better place.
  if (isScalar(node) && node.value === null && range[1] === range[0]) return undefined;
  return range[0];
}

/**
 * What each alias of the document refers to (undefined: no anchor before it), in one walk.
 * `Alias.resolve` walks the whole document on every call: once per alias is quadratic, and a
 * 32 KB file of aliases took 15 s.
 */
export function resolveAliases(doc: Document): Map<Alias, Node | undefined> {
  const anchors = new Map<string, Node>();
  const resolved = new Map<Alias, Node | undefined>();
  // The anchor an alias means is the last one of its name before it, in this walk's order (YAML 1.2 §3.2.2.2).
  const anchor = (_key: unknown, node: Node): void => {
    if (node.anchor) anchors.set(node.anchor, node);
  };
  visit(doc, {
    Map: anchor,
    Seq: anchor,
    Scalar: anchor,
    Alias: (_key, node) => {
      resolved.set(node, anchors.get(node.source));
    },
  });
  return resolved;
}

/** Finds the node for a path, falling back to the nearest parent that exists in the file. */
export function makeLocator(doc: Document, lineCounter: LineCounter): Locate {
  let aliases: Map<Alias, Node | undefined> | undefined;
  const deref = (node: unknown): unknown => {
    if (!isAlias(node)) return node;
    aliases ??= resolveAliases(doc);
    return aliases.get(node);
  };
  const keyText = (key: unknown): string | undefined => {
    const k = deref(key);
    return isScalar(k) ? String(k.value) : undefined;
  };
  return (path, at) => {
    let node: unknown = doc.contents;
    let best = rangeStart(node);
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      const collection = deref(node);
      let keyNode: unknown;
      let next: unknown;
      if (isMap(collection)) {
        const pair = collection.items.find((p) => keyText(p.key) === String(segment));
        if (pair === undefined) break;
        keyNode = pair.key;
        next = pair.value;
      } else if (isSeq(collection) && typeof segment === 'number') {
        next = collection.items[segment];
        if (next === undefined) break;
      } else {
        break;
      }
      const wantKey = at === 'key' && i === path.length - 1;
      best = (wantKey ? rangeStart(keyNode) : undefined) ?? rangeStart(next) ?? rangeStart(keyNode) ?? best;
      node = next;
    }
    return best === undefined ? { line: 1, col: 1 } : lineCounter.linePos(best);
  };
}
