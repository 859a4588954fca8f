/**
 * What the approval page says about a parked deployment (SPEC §9): parked and resumed
 * automatically once its gates are final, resumed in run <link>, or the resume failed with
 * GitHub's message and how to resume by hand. Every value is escaped; a link only for http(s).
 */
import { RESUME_INPUT } from '../../shared/park.ts';
import type { ResumeTarget } from '../../shared/park.ts';
import { dispatchRef, workflowFile } from '../github/dispatch.ts';
import type { ResumeNote } from '../run/results.ts';
import { escapeHtml, linkOrText } from './html.ts';

/** The page's resume section; '' when no job of the run ever parked. */
export function resumeNote(note: ResumeNote | null): string {
  if (note === null) return '';
  const dispatch = note.dispatch;
  const byHand = dispatch ? ` Resume by hand: <code>${escapeHtml(handCommand(dispatch.resume, note.deploymentId))}</code>, or re-run the parked run.` : '';
  switch (dispatch?.state) {
    case 'sent': {
      const run = dispatch.runUrl ? linkOrText(dispatch.runUrl) : `a new run of ${escapeHtml(dispatch.resume.workflow)}`;
      return box(`Resumed in run ${run}.`);
    }
    case 'failed':
      return box(`Resume failed: ${escapeHtml(dispatch.error ?? 'GitHub refused the dispatch')} —${byHand}`);
    case 'manual':
      return box(`Parked: ${escapeHtml(dispatch.error ?? 'the relay cannot resume this deployment')}.${byHand}`);
    case 'due':
      return box(`Parked: hookgate is resuming the deployment${dispatch.tries > 0 ? ` (GitHub refused ${dispatch.tries} time(s): ${escapeHtml(dispatch.error ?? '')})` : ''}.`);
    default:
      return note.parked ? box('Parked: hookgate resumes the deployment when its gates are final.') : '';
  }
}

/** The command that resumes the deployment by hand. */
function handCommand(resume: ResumeTarget, deploymentId: string): string {
  const ref = dispatchRef(resume.ref) ?? resume.ref;
  return `gh workflow run ${workflowFile(resume.workflow)} --repo ${resume.repository} --ref ${ref} -f ${RESUME_INPUT}=${deploymentId}`;
}

function box(html: string): string {
  return `<section class="box resume"><p>${html}</p></section>`;
}
