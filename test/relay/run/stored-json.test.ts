/** Reading JSON columns back (relay/run/stored-json.ts): a value that no longer reads is none, never an error. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { storedJson, storedStrings } from '../../../relay/run/stored-json.ts';

describe('storedJson', () => {
  const Pair = z.strictObject({ a: z.number() });

  it('parses a value the schema accepts', () => {
    expect(storedJson('{"a":1}', Pair)).toEqual({ a: 1 });
  });

  it('is undefined for null, text that is not JSON, and a value the schema refuses', () => {
    for (const json of [null, '', '{"a":', 'undefined', '{"a":"1"}', '{"a":1,"b":2}', '[1]', 'null']) {
      expect(storedJson(json, Pair)).toBeUndefined();
    }
  });
});

describe('storedStrings', () => {
  it('keeps the strings of an array, in order, and leaves other items out', () => {
    expect(storedStrings('["x", 1, "y", null, {"z": 1}]')).toEqual(['x', 'y']);
  });

  it('is [] for anything that is not a JSON array', () => {
    for (const json of ['', '{"0":"x"}', '"x"', 'not json']) expect(storedStrings(json)).toEqual([]);
  });
});
