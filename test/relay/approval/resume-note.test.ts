/** The approval page of a parked deployment (relay/approval/resume-note.ts): parked, resumed in run <link>, resume failed. */
import { describe, expect, it } from 'vitest';
import { decideOnPage, openApproval, registerApproval, runInObject } from '../helpers.ts';
import { newRepository, park, scriptGitHub, settledDispatch } from '../park.ts';

/** Every href of the page. */
function hrefs(html: string): string[] {
  return [...html.matchAll(/\shref\s*=\s*"([^"]*)"/gi)].map((match) => match[1] ?? '');
}

// The alarm sends dispatches on its own time: a loaded machine may need more than the default 5 s.
describe('the approval page of a parked deployment', { timeout: 30_000 }, () => {
  it('says nothing of parking when no job parked', async () => {
    const gate = await registerApproval();
    expect((await openApproval(gate.approvalUrl)).html).not.toContain('Parked');
  });

  it('says it is parked, then in which run it resumed', async () => {
    const repository = newRepository();
    const gate = await registerApproval();
    await park(gate.runId, repository, { gateIds: [gate.gateId] });
    expect((await openApproval(gate.approvalUrl)).html).toContain('Parked: hookgate resumes the deployment when its gates are final.');

    await decideOnPage(gate.approvalUrl, 'approve');
    const dispatch = await settledDispatch(gate.runId);
    const { html } = await openApproval(gate.approvalUrl);
    expect(html).toContain(`Resumed in run <a href="${dispatch.runUrl ?? ''}" rel="noopener noreferrer">`);
  });

  it('says the resume failed with GitHub’s message, escaped, and how to resume by hand', async () => {
    const repository = newRepository();
    await scriptGitHub(repository, { dispatch: 'refuse' });
    const gate = await registerApproval();
    await park(gate.runId, repository, { gateIds: [gate.gateId] });
    await runInObject(gate.runId, (state) => {
      state.storage.sql.exec("UPDATE gates SET state = 'canceled'");
      state.storage.sql.exec(
        `INSERT INTO dispatches (state, repository, workflow, ref, deployment_id, tries, error, created_at, updated_at)
         VALUES ('failed', ?, '.github/workflows/deploy.yml', 'refs/heads/main', ?, 9, '<script>alert(1)</script> & "no"', 0, 0)`,
        repository,
        gate.runId,
      );
    });
    const { html } = await openApproval(gate.approvalUrl);
    expect(html).toContain('Resume failed: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;no&quot;');
    expect(html).not.toContain('<script>');
    expect(html).toContain(`gh workflow run deploy.yml --repo ${repository} --ref main -f hookgate-resume=${gate.runId}`);
  });

  it('links the resumed run only when its URL is http(s)', async () => {
    const repository = newRepository();
    const gate = await registerApproval();
    await park(gate.runId, repository, { gateIds: [gate.gateId], targets: ['never'] });
    await runInObject(gate.runId, (state) => {
      state.storage.sql.exec(
        `INSERT INTO dispatches (state, repository, workflow, ref, deployment_id, resumed_run_url, created_at, updated_at)
         VALUES ('sent', ?, '.github/workflows/deploy.yml', 'refs/heads/main', ?, 'javascript:alert(1)', 0, 0)`,
        repository,
        gate.runId,
      );
    });
    const { html } = await openApproval(gate.approvalUrl);
    expect(html).toContain('Resumed in run javascript:alert(1).');
    expect(hrefs(html).filter((href) => !href.startsWith('https://'))).toEqual([]);
  });
});
