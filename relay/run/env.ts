/** The bindings the run object itself reads; the Worker's Env (relay/worker/env.ts) has them and more. */
export interface RunEnv {
  /** Days a run's storage is kept after its last activity (relay/run/retention.ts); default 30. */
  RETENTION_DAYS?: string;
}
