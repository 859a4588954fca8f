/**
 * Decides an approval the way a browser submits the approval page's form: GET
 * the page (its anti-forgery cookie and hidden field), then POST the form with both.
 * The Chromium tests click the real page; this is for tests about what follows.
 */
export interface FormDecision {
  decision: 'approve' | 'reject';
  comment?: string;
  approver?: string;
}

/** Submits the form; resolves with the status of the POST (303 on success). */
export async function decideByForm(approvalUrl: string, form: FormDecision): Promise<number> {
  const page = await fetch(approvalUrl);
  const html = await page.text();
  const input = /<input[^>]*name="csrf"[^>]*>/.exec(html)?.[0] ?? '';
  const csrf = /value="([^"]+)"/.exec(input)?.[1];
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  if (!csrf) throw new Error(`the approval page has no form (status ${page.status})`);
  const body = new URLSearchParams({ csrf, decision: form.decision, comment: form.comment ?? '', approver: form.approver ?? '' });
  const answer = await fetch(approvalUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: new URL(approvalUrl).origin },
    body,
    redirect: 'manual',
  });
  await answer.arrayBuffer();
  return answer.status;
}

/** The approval URL the action printed: `… open <url> to approve or reject …`. */
export const APPROVAL_LINE = /Approval needed[^\n]*: open (http\S+) to approve or reject/;
