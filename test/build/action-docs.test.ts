/**
 * action.yml is the source of the action's inputs and outputs: the settings reader
 * (action/settings.ts INPUTS, OUTPUTS and how it reads them) and README's input and output tables
 * must say the same — names, which input is required, and each default.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { INPUTS, OUTPUTS } from '../../action/settings.ts';
import { ROOT } from '../../scripts/local-relay.ts';

interface ActionYml {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, unknown>;
}

const actionYml = async (): Promise<ActionYml> => parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as ActionYml;
const sorted = (names: Iterable<string>): string[] => [...names].sort();

/** The rows of README's table with this header, as cells (`| a | b |` → ['a', 'b']). */
async function readmeTable(header: string): Promise<string[][]> {
  const lines = (await readFile(join(ROOT, 'README.md'), 'utf8')).split('\n');
  const start = lines.findIndex((line) => line.trim() === header);
  expect(start, `README.md has no table headed ${header}`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    // A cell may hold `a \| b`: split on pipes that are not escaped.
    rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
  }
  return rows;
}

/** The name in a table's first cell: `` `relay-url` `` → relay-url. */
const nameOf = (cell: string | undefined): string => /^`([^`]+)`$/.exec(cell ?? '')?.[1] ?? `(not a code name: ${cell})`;

async function sourcesOf(dir: string): Promise<{ path: string; text: string }[]> {
  const entries = await readdir(join(ROOT, dir), { recursive: true });
  const files = entries.filter((name) => name.endsWith('.ts')).sort();
  return Promise.all(files.map(async (name) => ({ path: `${dir}/${name}`, text: await readFile(join(ROOT, dir, name), 'utf8') })));
}

describe('action.yml, the settings reader and README agree', () => {
  it('on the input and output names the settings reader uses', async () => {
    const action = await actionYml();
    expect(sorted(Object.values(INPUTS))).toEqual(sorted(Object.keys(action.inputs)));
    expect(sorted(Object.values(OUTPUTS))).toEqual(sorted(Object.keys(action.outputs)));
  });

  it('reads and sets them only through INPUTS and OUTPUTS', async () => {
    const loose = (await sourcesOf('action')).flatMap(({ path, text }) =>
      [...text.matchAll(/core\.(getInput|getBooleanInput|getMultilineInput|setOutput)\(\s*([^,)]*)/g)]
        .filter(([, call, name]) => !(name ?? '').startsWith(call === 'setOutput' ? 'OUTPUTS.' : 'INPUTS.'))
        .map(([match]) => `${path}: ${match}`),
    );
    expect(loose).toEqual([]);
  });

  it('on which inputs are required and on the defaults the reader falls back to', async () => {
    const { inputs } = await actionYml();
    const settings = await readFile(join(ROOT, 'action/settings.ts'), 'utf8');
    const nameOfKey = (key: string | undefined): string => INPUTS[key as keyof typeof INPUTS];
    const requiredInCode = [...settings.matchAll(/getInput\(INPUTS\.(\w+),\s*\{\s*required:\s*true/g)].map(([, key]) => nameOfKey(key));
    const requiredInYml = Object.entries(inputs).filter(([, input]) => input.required === true).map(([name]) => name);
    expect(sorted(requiredInCode)).toEqual(sorted(requiredInYml));
    // `core.getInput(INPUTS.config) || 'deploy.yml'`: the runner passes action.yml's default, the code falls back to the same.
    const fallbacks = [...settings.matchAll(/getInput\(INPUTS\.(\w+)\)\s*\|\|\s*'([^']*)'/g)].map(([, key, value]) => [nameOfKey(key), value]);
    expect(fallbacks.length).toBeGreaterThan(0);
    for (const [name, value] of fallbacks) expect({ name, default: inputs[name!]?.default }).toEqual({ name, default: value });
  });

  it("on README's input table: names, required, defaults", async () => {
    const { inputs } = await actionYml();
    const rows = await readmeTable('| input | default | meaning |');
    expect(sorted(rows.map(([name]) => nameOf(name)))).toEqual(sorted(Object.keys(inputs)));
    const disagree = rows.flatMap(([cell, stated]) => {
      const name = nameOf(cell);
      const input = inputs[name] ?? {};
      if (input.required === true) return stated === 'required' ? [] : [`${name}: action.yml requires it, README says '${stated}'`];
      if (stated === 'required') return [`${name}: README says required, action.yml does not`];
      if (input.default !== undefined && stated !== `\`${input.default}\``) return [`${name}: action.yml's default is '${input.default}', README says '${stated}'`];
      return [];
    });
    expect(disagree).toEqual([]);
  });

  it("on README's output table", async () => {
    const { outputs } = await actionYml();
    const rows = await readmeTable('| output | meaning |');
    expect(sorted(rows.map(([name]) => nameOf(name)))).toEqual(sorted(Object.keys(outputs)));
  });
});
