/** What the approval page shows (relay/approval/page.ts, SPEC §4), and that nothing in it can run script. */
import { describe, expect, it } from 'vitest';
import {
  approvalRequest,
  decide,
  decideOnPage,
  expectError,
  openApproval,
  postRegister,
  register,
  registerApproval,
  RUN_INFO,
} from '../helpers.ts';

/** An epoch-milliseconds time as the page shows it: ISO 8601 UTC to the second. */
function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Tags with an event-handler attribute, anywhere in the page. */
const EVENT_HANDLER = /<[a-z][^>]*\son[a-z]+\s*=/i;

/** Every href of the page. */
function hrefs(html: string): string[] {
  return [...html.matchAll(/\shref\s*=\s*"([^"]*)"/gi)].map((match) => match[1] ?? '');
}

describe('the approval page', () => {
  it('shows the run, the required roles and this gate’s deadline', async () => {
    const gate = await registerApproval({ requiresRoles: ['release-manager', 'sre'] });
    const { html } = await openApproval(gate.approvalUrl);
    expect(html).toContain('<strong>potato-facts</strong> to <strong>prod</strong>');
    expect(html).toContain(`<code title="${RUN_INFO.sha}">0123456</code>`);
    expect(html).toContain('<dd>refs/heads/main</dd>');
    expect(html).toContain('<dd>octocat</dd>');
    expect(html).toContain('<dd>acme/potato-facts</dd>');
    expect(html).toContain(`<a href="${RUN_INFO.runUrl}" rel="noopener noreferrer">`);
    expect(html).toContain('<strong>release-manager</strong>, <strong>sre</strong>');
    expect(html).toContain('Sign-in is not configured on this relay: this link is the only credential; requiresRoles, minimumApprovals and preventSelfReview are not enforced.');
    expect(html).toContain(`expires at <time>${isoTime(gate.deadline)}</time>`);
    expect(html).toMatch(/expires at <time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/time>/);
    expect(html).toMatch(/<form method="post"[^>]*>/);
    expect(html).toMatch(/<textarea id="comment" name="comment" rows="4" maxlength="2000">/);
    expect(html).toContain('name="approver" maxlength="100"');
    expect(html).toContain('<button type="submit" name="decision" value="approve">');
    expect(html).toContain('<button type="submit" name="decision" value="reject">');
    expect(html).not.toMatch(/<script/i);
  });

  it('says nothing about roles when none are required, and dashes for a run not described', async () => {
    const gate = await registerApproval({ run: undefined });
    const { html, res } = await openApproval(gate.approvalUrl);
    expect(res.status).toBe(200);
    expect(html).not.toContain('Required roles');
    expect(html).toContain('<dt>Started by</dt><dd>—</dd>');
    expect(hrefs(html)).toEqual([]);
  });

  it('shows the latest run description registered', async () => {
    const gate = await registerApproval();
    const run = { ...RUN_INFO, actor: 'hubot' };
    await register({ runId: gate.runId, stepKey: 'prod/afterDeployment/0/x', target: 'prod', run });
    expect((await openApproval(gate.approvalUrl)).html).toContain('<dd>hubot</dd>');
  });

  it('lists every gate of the same target and attempt in creation order, and no other', async () => {
    const old = await register({ stepKey: 'prod/1/old', target: 'prod', name: 'Old-Attempt-Gate' });
    const runId = old.runId;
    await decide(old.callbackUri, { success: true });
    const before = await register({ runId, stepKey: 'prod/2/ticket', target: 'prod', name: 'Change-Ticket', attempt: 2 });
    const gate = await registerApproval({ runId, stepKey: 'prod/2/approval', attempt: 2 });
    const after = await register({
      runId,
      stepKey: 'prod/2/health',
      target: 'prod',
      phase: 'strategy',
      name: 'System-Health',
      attempt: 2,
    });
    await register({ runId, stepKey: 'staging/2/tests', target: 'staging', name: 'Staging-Only', attempt: 2 });
    await decide(before.callbackUri, { progress: true, mdMessage: 'ticket **CHG-7** opened' });
    await decide(before.callbackUri, { success: true, mdMessage: 'ticket _approved_' });
    await decide(after.callbackUri, { progress: true, mdMessage: '3 of 5 checks green' });

    const { html } = await openApproval(gate.approvalUrl);
    expect(html).not.toContain('Old-Attempt-Gate');
    expect(html).not.toContain('Staging-Only');
    const positions = ['Change-Ticket', 'Approval</strong>', 'System-Health'].map((name) => html.lastIndexOf(name));
    expect(positions.every((position) => position > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(html).toContain('Gates of prod, attempt 2');
    expect(html).toContain('webhook <strong>Change-Ticket</strong> <span class="note">beforeDeployment</span>');
    expect(html).toContain('approval <strong>Approval</strong>');
    expect(html).toContain('<span class="note">strategy</span> <span class="state state-pending">pending</span>');
    expect(html).toContain('ticket <strong>CHG-7</strong> opened');
    expect(html).toContain('ticket <em>approved</em>');
    expect(html).toContain('3 of 5 checks green');
    expect(html).toContain('<span class="state state-succeeded">succeeded</span>');
  });

  it('shows the outcome, who decided and the comment once decided, and no form', async () => {
    const gate = await registerApproval();
    await decideOnPage(gate.approvalUrl, 'reject', { approver: 'Grace', comment: 'Not on a **Friday**.' });
    const { html } = await openApproval(gate.approvalUrl);
    expect(html).toContain('<span class="state state-failed">rejected</span> by <strong>Grace</strong> at <time>');
    expect(html).toContain('Not on a <strong>Friday</strong>.');
    expect(html).toContain('Decided by Grace');
    expect(html).not.toContain('<form');
    expect(html).not.toContain('name="csrf"');
  });
});

describe('the approval page against hostile text', () => {
  const HOSTILE = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '[x](javascript:alert(1))',
    '[y](JaVaScRiPt:alert(1))',
    '[z](java\tscript:alert(1))',
    '[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
    '[v](vbscript:msgbox(1))',
    '<javascript:alert(1)>',
    '[ref]\n\n[ref]: javascript:alert(1)',
    '![pic](https://evil.example/pixel.png)',
    '<a href="javascript:alert(1)">a</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<svg onload=alert(1)>',
    '"><script>alert(1)</script>',
    '[ok](https://example.com/fine) and <https://example.com/auto> and [mail](mailto:ops@example.com)',
  ].join('\n\n');

  it('escapes raw HTML, drops unsafe links and images in messages, progress, comments and names', async () => {
    const gate = await registerApproval({
      name: '"><script>alert("name")</script>',
      run: { ...RUN_INFO, actor: '<img src=x onerror=alert(1)>', ref: '"><svg onload=alert(1)>' },
    });
    const sibling = await register({ runId: gate.runId, stepKey: 'prod/hostile', target: 'prod', name: 'Hostile' });
    await decide(sibling.callbackUri, { progress: true, mdMessage: HOSTILE });
    await decide(sibling.callbackUri, { success: false, mdMessage: HOSTILE });
    await decideOnPage(gate.approvalUrl, 'approve', { approver: '<script>alert(2)</script>', comment: HOSTILE });

    const { html, res } = await openApproval(gate.approvalUrl);
    expect(res.status).toBe(200);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<iframe/i);
    expect(html).not.toMatch(/<svg/i);
    expect(html).not.toMatch(EVENT_HANDLER);
    expect(html).not.toMatch(/href\s*=\s*"\s*(javascript|data|vbscript):/i);
    for (const href of hrefs(html)) expect(href).toMatch(/^(https:\/\/|mailto:)/);
    expect(html).toContain('<a href="https://example.com/fine" rel="noopener noreferrer nofollow">ok</a>');
    expect(html).toContain('<a href="mailto:ops@example.com" rel="noopener noreferrer nofollow">mail</a>');
    // Escaped, the hostile text is still readable.
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
  });

  it('does not let a link-free message smuggle a tag through the gate name, state or title', async () => {
    const gate = await registerApproval({ name: '</title><script>alert(3)</script>' });
    const { html } = await openApproval(gate.approvalUrl);
    expect(html).toMatch(/<title>[^<]*&lt;\/title&gt;&lt;script&gt;/);
    expect(html).not.toMatch(/<script/i);
  });

  it('never links a run URL that is not http(s): registration refuses it', async () => {
    for (const runUrl of ['javascript:alert(1)', 'data:text/html,x', 'ftp://example.com/run']) {
      const error = await expectError(await postRegister(approvalRequest({ run: { ...RUN_INFO, runUrl } })), 400, 'bad_request');
      expect(error.message).toContain('run.runUrl');
    }
  });
});
