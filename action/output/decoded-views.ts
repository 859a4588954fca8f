/**
 * A text as an external system's answer may spell it, decoded: percent-encoding (any hex case,
 * `+` for a space), JSON string escapes (`\"`, `\/`, `\u00xx`, …) and HTML character references
 * (named and numeric), each alone and each applied twice in any order (JSON inside JSON, a URL
 * inside a JSON answer, JSON inside an HTML error page). Every decoded character remembers the
 * span of the original text it came from, so a secret found in a decoded view is masked in the
 * original whole, in whatever spelling it was.
 */

export interface View {
  text: string;
  /** Where the spelling of character `i` of `text` starts in the original text. */
  startOf(i: number): number;
  /** Where it ends (exclusive). */
  endOf(i: number): number;
}

type Piece = [decoded: string, from: number, to: number];
type Decoder = { trigger: string; token: RegExp; decode: (token: string, at: number) => Piece[] };

const PERCENT: Decoder = { trigger: '%+', token: /(?:%[0-9A-Fa-f]{2})+|\+/g, decode: decodePercent };
const JSON_ESCAPE: Decoder = { trigger: '\\', token: /\\(?:u[0-9A-Fa-f]{4}|["\\/bfnrt])/g, decode: decodeJson };
const HTML: Decoder = { trigger: '&', token: /&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|amp|lt|gt|quot|apos);/g, decode: decodeHtml };
const DECODERS = [PERCENT, JSON_ESCAPE, HTML];

/** The original text and every decoded view that differs from it (none for a text without escapes). */
export function decodedViews(text: string): View[] {
  const identity: View = { text, startOf: (i) => i, endOf: (i) => i + 1 };
  const views = [identity];
  for (const first of DECODERS) {
    const once = decodeView(identity, first);
    if (once === null) continue;
    views.push(once);
    for (const second of DECODERS) {
      const twice = decodeView(once, second);
      if (twice !== null) views.push(twice);
    }
  }
  return views;
}

/** `view` decoded once more, its spans still pointing into the original text; null if nothing was decoded. */
function decodeView(view: View, decoder: Decoder): View | null {
  if (![...decoder.trigger].some((c) => view.text.includes(c))) return null;
  // Decoding never lengthens a text (an astral character is two units, from at least 8).
  const start = new Int32Array(view.text.length);
  const end = new Int32Array(view.text.length);
  const parts: string[] = [];
  let length = 0;
  const add = (decoded: string, from: number, to: number): void => {
    parts.push(decoded);
    const first = view.startOf(from);
    const last = view.endOf(to - 1);
    for (let i = 0; i < decoded.length; i++, length++) {
      start[length] = first;
      end[length] = last;
    }
  };
  const keep = (from: number, to: number): void => {
    parts.push(view.text.slice(from, to));
    for (let i = from; i < to; i++, length++) {
      start[length] = view.startOf(i);
      end[length] = view.endOf(i);
    }
  };
  let last = 0;
  for (const match of view.text.matchAll(decoder.token)) {
    keep(last, match.index);
    for (const [decoded, from, to] of decoder.decode(match[0], match.index)) add(decoded, from, to);
    last = match.index + match[0].length;
  }
  if (last === 0) return null;
  keep(last, view.text.length);
  return { text: parts.join(''), startOf: (i) => start[i] ?? 0, endOf: (i) => end[i] ?? 0 };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A run of `%XX` bytes: each complete UTF-8 sequence becomes its character; a broken byte stays as written. */
function decodePercent(token: string, at: number): Piece[] {
  if (token === '+') return [[' ', at, at + 1]];
  const bytes = (token.match(/%../g) ?? []).map((b) => parseInt(b.slice(1), 16));
  const pieces: Piece[] = [];
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i] ?? 0;
    const length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    let decoded: string;
    try {
      decoded = UTF8.decode(new Uint8Array(bytes.slice(i, i + length)));
    } catch {
      pieces.push([token.slice(i * 3, i * 3 + 3), at + i * 3, at + i * 3 + 3]);
      i += 1;
      continue;
    }
    pieces.push([decoded, at + i * 3, at + (i + length) * 3]);
    i += length;
  }
  return pieces;
}

const JSON_SHORT: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function decodeJson(token: string, at: number): Piece[] {
  const decoded = token[1] === 'u' ? String.fromCharCode(parseInt(token.slice(2), 16)) : (JSON_SHORT[token[1] ?? ''] ?? token);
  return [[decoded, at, at + token.length]];
}

const HTML_NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeHtml(token: string, at: number): Piece[] {
  const name = token.slice(1, -1);
  let decoded = HTML_NAMED[name];
  if (decoded === undefined) {
    const codePoint = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    decoded = codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : token;
  }
  return [[decoded, at, at + token.length]];
}
