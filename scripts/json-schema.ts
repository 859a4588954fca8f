/**
 * The JSON Schema of the deployment file (dist/deploy.schema.json), for editors: with
 * `# yaml-language-server: $schema=<its raw URL>` at the top of deploy.yml, VS Code's YAML extension
 * completes fields and explains them on hover. Draft-07, the newest draft yaml-language-server reads.
 * `node scripts/json-schema.ts` writes it; build.ts does too.
 */
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { deploymentFileSchema } from '../action/plan/file-schema.ts';

export const SCHEMA_FILE = 'deploy.schema.json';
/**
 * The schema as an object. It has no `$id`: its address depends on where the repository lives, and
 * editors find it by the `$schema=` line; its `$ref`s are all inside it.
 */
export function deploymentJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(deploymentFileSchema, {
    target: 'draft-07',
    // The file as written: the loader's transforms (durations to seconds, numbers to text) come after.
    io: 'input',
    // Every shape is small; inlining keeps each hover self-contained.
    reused: 'inline',
    unrepresentable: 'throw',
  });
}

/** The file's text: stable (key order as written), two-space indented, one trailing newline. */
export function deploymentJsonSchemaText(): string {
  return `${JSON.stringify(deploymentJsonSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  const out = process.argv[2] ?? `dist/${SCHEMA_FILE}`;
  await writeFile(out, deploymentJsonSchemaText());
  console.log(`wrote ${out}`);
}
