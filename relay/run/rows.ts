/** The run object's stored rows and how they become the protocol's views. */
import type {
  GateKind,
  RegisterGate,
  GateState,
  GateView,
  ProgressReport,
  RunInfo,
  TargetRecord,
  TargetStatus,
} from '../../shared/protocol.ts';
import { ApprovalPolicy, GraphTarget as GraphTargetSchema, MAX_GRAPH_TARGETS, Outputs } from '../../shared/protocol.ts';
import type { NewGate } from './results.ts';
import { storedJson, storedStrings } from './stored-json.ts';

export type GateRow = {
  id: string;
  run_id: string;
  step_key: string;
  target: string;
  phase: GateView['phase'];
  name: string;
  kind: GateKind;
  attempt: number;
  state: GateState;
  message: string | null;
  decided_by: string | null;
  /** JSON array of role names. */
  requires_roles: string;
  created_at: number;
  deadline: number;
  decided_at: number | null;
  callback_uri: string;
  approval_url: string | null;
  /** JSON of the gate's ApprovalPolicy (shared/protocol.ts); null when registered without one. */
  approval: string | null;
  /** JSON of the decision's Outputs; null when it carried none (or is not decided). */
  outputs: string | null;
  /** The gate's heartbeatTimeout; null without one. */
  heartbeat_seconds: number | null;
  /** When the action reported the webhook called (POST /v1/gates/called); null before. */
  called_at: number | null;
  /** When the external system was last heard: the call, then any callback; null before the call. */
  last_heard_at: number | null;
  /** 1 when the relay failed the gate itself (heartbeatTimeout): a late callback finds it gone; else 0. */
  relay_ended: number;
};

/** Every column of a GateRow (a Record, so that the compiler names any a new field leaves out). */
const GATE_COLUMNS: Record<keyof GateRow, true> = {
  id: true,
  run_id: true,
  step_key: true,
  target: true,
  phase: true,
  name: true,
  kind: true,
  attempt: true,
  state: true,
  message: true,
  decided_by: true,
  requires_roles: true,
  created_at: true,
  deadline: true,
  decided_at: true,
  callback_uri: true,
  approval_url: true,
  approval: true,
  outputs: true,
  heartbeat_seconds: true,
  called_at: true,
  last_heard_at: true,
  relay_ended: true,
};

/** A SELECT list of every GateRow column, the message cut in SQL to its first `chars` characters. */
export function gateColumnsWithMessageCut(chars: number): string {
  const cut = `substr(message, 1, ${Math.trunc(chars)}) AS message`;
  return Object.keys(GATE_COLUMNS)
    .map((column) => (column === 'message' ? cut : column))
    .join(', ');
}

export type TargetRow = {
  target: string;
  attempt: number;
  status: TargetStatus;
  message: string;
  updated_at: number;
};

export type RunInfoRow = {
  application: string;
  repository: string;
  sha: string;
  ref: string;
  actor: string;
  run_url: string;
  /** JSON of the run's GraphTarget[]; null when the action sent none. */
  graph: string | null;
};

/** The row of a gate registered now, pending until its timeout. */
export function newGateRow(request: RegisterGate, gate: NewGate, now: number): GateRow {
  return {
    id: gate.gateId,
    run_id: request.runId,
    step_key: request.stepKey,
    target: request.target,
    phase: request.phase,
    name: request.name,
    kind: request.kind,
    attempt: request.attempt,
    state: 'pending',
    message: null,
    decided_by: null,
    requires_roles: JSON.stringify(request.requiresRoles),
    created_at: now,
    deadline: now + request.timeoutSeconds * 1000,
    decided_at: null,
    callback_uri: gate.callbackUri,
    approval_url: gate.approvalUrl,
    approval: request.approval ? JSON.stringify(request.approval) : null,
    outputs: null,
    heartbeat_seconds: request.heartbeatSeconds ?? null,
    called_at: null,
    last_heard_at: null,
    relay_ended: 0,
  };
}

/** A gate's view with its progress reports, oldest first. */
export function gateView(row: GateRow, progress: ProgressReport[]): GateView {
  return {
    gateId: row.id,
    runId: row.run_id,
    stepKey: row.step_key,
    target: row.target,
    phase: row.phase,
    name: row.name,
    kind: row.kind,
    attempt: row.attempt,
    state: row.state,
    message: row.message,
    decidedBy: row.decided_by,
    createdAt: row.created_at,
    deadline: row.deadline,
    decidedAt: row.decided_at,
    progress,
    outputs: storedJson(row.outputs, Outputs) ?? null,
    heartbeatSeconds: row.heartbeat_seconds,
    lastHeardAt: row.last_heard_at,
  };
}

/** The graph a run stores, as a registration sends it. */
const StoredGraph = GraphTargetSchema.array().max(MAX_GRAPH_TARGETS);

/** Whether the gate holds a progress report numbered above `seen`; false when `seen` is not given. */
export function hasProgressAfter(gate: GateView, seen: number | undefined): boolean {
  return seen !== undefined && gate.progress.some((report) => report.seq > seen);
}

/** The role names a gate stores; [] for anything that is not a JSON array (its items that are not strings left out). */
export function requiredRoles(row: GateRow): string[] {
  return storedStrings(row.requires_roles);
}

/** The policy a gate stores; null when it has none or the JSON does not parse as one. */
export function approvalPolicy(row: GateRow): ApprovalPolicy | null {
  return storedJson(row.approval, ApprovalPolicy) ?? null;
}

/** A target's record; `unknown` at attempt 0 until a job reports it. */
export function targetRecord(runId: string, target: string, row: TargetRow | undefined): TargetRecord {
  if (!row) return { runId, target, attempt: 0, status: 'unknown', message: '', updatedAt: null };
  return {
    runId,
    target,
    attempt: row.attempt,
    status: row.status,
    message: row.message,
    updatedAt: row.updated_at,
  };
}

export function runInfo(row: RunInfoRow | undefined): RunInfo | null {
  if (!row) return null;
  const graph = storedJson(row.graph, StoredGraph);
  return {
    application: row.application,
    repository: row.repository,
    sha: row.sha,
    ref: row.ref,
    actor: row.actor,
    runUrl: row.run_url,
    ...(graph ? { graph } : {}),
  };
}
