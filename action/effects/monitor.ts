/**
 * A webhook's `monitor` (SPEC §11): after the call, poll a status request on the runner until the
 * value at statusPath is a success or failure value, then post that verdict as the gate's decision
 * to its callback URI, so the relay stores it like any callback (a real callback first still wins).
 */
import type { RegisterGateResponse } from '../../shared/protocol.ts';
import { truncateCodePoints } from '../../shared/text.ts';
import { hostOf } from '../clients/http.ts';
import { MAX_STATUS_BYTES, MAX_VERDICT_GAP_MS, postVerdict, renderStatusRequest, requestStatus } from '../clients/monitor.ts';
import type { StatusAnswer, Verdict } from '../clients/monitor.ts';
import type { WebhookRequest } from '../clients/webhook.ts';
import { errorMessage } from '../lib/errors.ts';
import { formatDuration } from '../lib/time.ts';
import type { Location, MonitorDef, TargetPlan, WebhookDef } from '../plan/plan.ts';
import { renderTemplate, templateNames } from '../plan/template.ts';
import type { EffectsContext } from './context.ts';
import { foreignOrigin, isOneOf, renderStatusPath, responseVars, seenText, statusAt } from './monitor-vars.ts';
import type { CallAnswer } from './monitor-vars.ts';

export interface MonitorCall {
  ctx: EffectsContext;
  target: TargetPlan;
  def: WebhookDef;
  /** The webhook's template variables, as its call used them. */
  resolve: (name: string) => string | undefined;
  /** The webhook call's answer: `{{response.*}}` come from it. */
  answer: CallAnswer;
  gate: RegisterGateResponse;
  /** Aborts when the gate's wait returned, the step was canceled or its deadline passed. */
  signal: AbortSignal;
}

/** 2xx answers without JSON in a row that fail the gate: one is a proxy's page during a restart, three are a wrong URL. */
export const NOT_JSON_LIMIT = 3;
/** Characters of a status value shown in the log and the gate's message (the `status` output keeps more). */
const SHOWN_CHARS = 100;
const OUTPUT_CHARS = 1000;

/**
 * Polls until a verdict and posts it to the gate, trying the post again until the relay takes it.
 * Resolves with null once the relay has it (or the gate was decided first), or quietly once `signal`
 * aborts; with the step's failure message when the relay refuses the verdict for good (the caller
 * fails the step and withdraws the gate). Never rejects.
 */
export async function monitorGate(call: MonitorCall): Promise<string | null> {
  const monitor = call.def.monitor;
  if (monitor === null) return null;
  let verdict: Verdict;
  try {
    verdict = await poll(call, monitor);
  } catch (error) {
    if (call.signal.aborted) return null;
    verdict = { success: false, mdMessage: `monitor: unexpected error: ${call.ctx.redact(errorMessage(error))}` };
  }
  return post(call, verdict);
}

interface Prepared {
  request: WebhookRequest;
  path: string;
  /** `GET jenkins.example:8080`: never more of the URL than its host. */
  where: string;
}

/** The status request and statusPath, rendered once: the variables cannot change while polling. */
function prepare(call: MonitorCall, monitor: MonitorDef): Prepared | Verdict {
  const { ctx, def, answer } = call;
  let callUrl = '';
  try {
    callUrl = renderTemplate(def.uriTemplate, call.resolve, 'uri');
  } catch {
    // Only a relative Location header needs it; that case says what is missing.
  }
  const { vars, why } = responseVars(call.resolve, answer, callUrl);
  const used = [monitor.uriTemplate, monitor.statusPath, monitor.bodyTemplate ?? '', ...monitor.headers.map((h) => h.value)].flatMap(templateNames);
  const at = place(monitor.location);
  const missing = used.find((name) => name.startsWith('response.') && vars(name) === undefined);
  if (missing !== undefined) return failed(`{{${missing}}} has no value: ${why(missing)} ${at}`);
  try {
    const request = renderStatusRequest(def, monitor, vars, { signingSecret: ctx.settings.webhookSigningSecret });
    // Every poll would fail alike; the URL itself may hold a secret, so it is not shown.
    if (!/^https?:$/.test(URL.parse(request.url)?.protocol ?? '')) return failed(`the status request’s uriTemplate does not render to an http(s) URL ${at}`);
    const foreign = foreignOrigin(monitor.uriTemplate, request.url, callUrl, vars);
    if (foreign !== null) return failed(`${foreign} ${at}`);
    return { request, path: renderStatusPath(monitor.statusPath, vars), where: `${request.method} ${hostOf(request.url)}` };
  } catch (error) {
    return failed(`cannot render the status request: ${ctx.redact(errorMessage(error))} ${at}`);
  }
}

async function poll(call: MonitorCall, monitor: MonitorDef): Promise<Verdict> {
  const { ctx, signal } = call;
  const prepared = prepare(call, monitor);
  if ('success' in prepared) return prepared;
  const { request, path, where } = prepared;
  const say = (message: string): void => ctx.say(call.target, `monitor ${call.def.name}: ${message}`);
  const interval = monitor.intervalSeconds * 1000;
  const failure = monitor.failure.length > 0 ? `, failure: ${monitor.failure.join(', ')}` : '';
  say(`polling ${where} every ${formatDuration(interval)} for ${path} (success: ${monitor.success.join(', ')}${failure})`);
  const state: PollState = { last: null, problem: null, notJson: 0 };
  // The first poll comes one interval after the call: at once, the system has barely taken the work (Jenkins' build is still a queue item).
  let wait = interval;
  for (;;) {
    await ctx.clock.sleep(wait, signal);
    const answer = await requestStatus(request, { signal, now: () => ctx.clock.now(), redact: ctx.redact, ...(ctx.fetch ? { fetch: ctx.fetch } : {}) });
    const verdict = judge(answer, monitor, path, where, state, say);
    if (verdict !== null) return verdict;
    wait = interval;
    if (answer.kind === 'transient' && answer.retryAfterMs !== null) {
      // Retry-After may ask for longer than the interval, never for longer than the gate has left.
      wait = Math.max(interval, Math.min(answer.retryAfterMs, call.gate.deadline - ctx.clock.now()));
    }
  }
}

interface PollState {
  /** The status last logged, as shown. */
  last: string | null;
  /** The kind of the last failed poll logged (`HTTP 503`), so an outage is logged once, not every interval. */
  problem: string | null;
  notJson: number;
}

/** The verdict one answer gives, or null to poll on; logs each change of status. */
function judge(answer: StatusAnswer, monitor: MonitorDef, path: string, where: string, state: PollState, say: (message: string) => void): Verdict | null {
  if (answer.kind === 'refused' && answer.redirectTo !== undefined) {
    return failed(`the status request ${where} answered HTTP ${answer.status}, a redirect to ${answer.redirectTo}; the monitor follows no redirect (its headers would go along): put the final URL in monitor.uriTemplate ${place(monitor.location)}`);
  }
  if (answer.kind === 'refused') return failed(`the status request ${where} answered HTTP ${answer.status}${answer.quote ? `: ${code(answer.quote)}` : ''}`);
  if (answer.kind === 'not-json') {
    state.notJson += 1;
    const what = answer.quote === null ? `with more than ${MAX_STATUS_BYTES} bytes` : `without JSON${answer.quote ? `: ${code(answer.quote)}` : ''}`;
    if (state.notJson >= NOT_JSON_LIMIT) return failed(`the status request ${where} answered HTTP ${answer.status} ${what} (${NOT_JSON_LIMIT} times in a row)`);
    problem(state, `HTTP ${answer.status} without JSON`, `${where} answered HTTP ${answer.status} ${what}; polling on`, say);
    return null;
  }
  if (answer.kind === 'transient') {
    problem(state, answer.reason.split(':')[0] ?? answer.reason, `${where} failed (${answer.reason}); polling on`, say);
    return null;
  }
  state.notJson = 0;
  state.problem = null;
  let seen;
  try {
    seen = statusAt(answer.json, path);
  } catch (error) {
    return failed(`statusPath ${code(path)} cannot be evaluated: ${errorMessage(error)} ${place(monitor.location)}`);
  }
  const shown = oneLine(seenText(seen));
  if (shown !== state.last) say(state.last === null ? `status ${shown}` : `status ${state.last} → ${shown}`);
  state.last = shown;
  if (seen.kind !== 'value') return null;
  // Failure first: a value in both lists (the loader refuses that) must not pass a gate.
  const success = isOneOf(monitor.failure, seen.text) ? false : isOneOf(monitor.success, seen.text) ? true : null;
  if (success === null) return null;
  return {
    success,
    mdMessage: `monitor: ${code(path)} is ${code(shown)} (${where})`,
    outputs: { status: truncateCodePoints(seen.text, OUTPUT_CHARS) },
  };
}

function problem(state: PollState, kind: string, message: string, say: (message: string) => void): void {
  if (state.problem !== kind) say(message);
  state.problem = kind;
}

/** Posts the verdict until the relay takes it; the step's failure message when the relay refuses it for good. */
async function post(call: MonitorCall, verdict: Verdict): Promise<string | null> {
  const { ctx, target, def, signal } = call;
  const redacted: Verdict = { ...verdict, mdMessage: ctx.redact(verdict.mdMessage) };
  if (verdict.outputs) redacted.outputs = Object.fromEntries(Object.entries(verdict.outputs).map(([k, v]) => [k, ctx.redact(v)]));
  const outcome = verdict.success ? 'success' : 'failure';
  const onFailing = (reason: string, attempts: number): void =>
    ctx.log.warning(
      `[${target.name}] monitor ${def.name}: its ${outcome} could not be posted to the gate yet (${attempts} attempts; ${reason}); trying again at least once every ${formatDuration(MAX_VERDICT_GAP_MS)} while the gate waits`,
    );
  try {
    const result = await postVerdict(call.gate.callbackUri, redacted, { signal, clock: ctx.clock, redact: ctx.redact, onFailing, ...(ctx.fetch ? { fetch: ctx.fetch } : {}) });
    if (result.kind === 'stored') ctx.say(target, `monitor ${def.name}: ${outcome} — ${redacted.mdMessage}`);
    else if (result.kind === 'decided') ctx.say(target, `monitor ${def.name}: the gate was decided before its ${outcome} (HTTP ${result.status}); nothing more to do`);
    else return `monitor ${def.name}: the relay refused its ${outcome} (${result.reason}), so the gate was withdrawn; the verdict was: ${redacted.mdMessage}`;
  } catch {
    // Aborted: the gate's wait is over, whatever decided it.
  }
  return null;
}

/** `(deploy.yml:12:7)`: where the monitor is written, for a failure the file causes. */
function place(location: Location): string {
  return `(${location.file}:${location.line}:${location.col})`;
}

/** A failure verdict (no status value). */
function failed(why: string): Verdict {
  return { success: false, mdMessage: `monitor: ${why}` };
}

/** A Markdown code span: a value from outside never becomes a link, an image or emphasis. */
function code(text: string): string {
  return `\`${text.replaceAll('`', "'")}\``;
}

/** A status value from outside, on one line and short. */
function oneLine(text: string): string {
  return truncateCodePoints(text.replace(/[\r\n\u0085\u2028\u2029]+/g, ' '), SHOWN_CHARS, '…');
}
