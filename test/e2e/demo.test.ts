/** `npm start` must keep telling its story, exit 0 and leave no process behind. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local-relay.ts';

const run = promisify(execFile);

describe('the demo', () => {
  it('deploys staging, rolls prod back, and stops everything it started', async () => {
    const { stdout } = await run(process.execPath, ['examples/demo/demo.ts'], { cwd: ROOT, timeout: 90_000 });

    expect(stdout).toContain('[staging] Gate registered for webhook Update-Database-Schema');
    expect(stdout).toMatch(/external system: callback \{"success":true,"mdMessage":"Schema v42 applied"\} → relay answered 200/);
    expect(stdout).toContain('[staging] staging deployed');
    expect(stdout).toContain('[prod] Callback for System-Health: failure — Error rate **7.2%** is above the 2% threshold');
    expect(stdout).toContain('[prod] prod rolled back');
    expect(stdout).toContain('Result: rolled-back — staging succeeded, prod rolled-back');
    const { stdout: processes } = await run('ps', ['-eo', 'args']);
    expect(processes).not.toMatch(/hookgate-demo-/);
  });
});
