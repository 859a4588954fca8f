/** The bindings the run object itself reads; the Worker's Env (relay/worker/env.ts) has them and more. */
export interface RunEnv {
  /** Days a run's storage is kept after its last activity (relay/run/retention.ts); default 30. */
  RETENTION_DAYS?: string;
  /** The relay's GitHub App, which resumes parked deployments (relay/github/app-config.ts); unset: resumes are by hand. */
  GITHUB_APP_ID?: string;
  /** The App's private key, PEM as GitHub hands it out (PKCS#1) or PKCS#8 (`wrangler secret put GITHUB_APP_PRIVATE_KEY`). */
  GITHUB_APP_PRIVATE_KEY?: string;
  /** GitHub's REST API; default https://api.github.com (GitHub Enterprise Server: https://HOST/api/v3). */
  GITHUB_API_URL?: string;
  /** Seconds a resume GitHub refuses is retried before it is reported failed; default 3600. */
  RESUME_RETRY_SECONDS?: string;
}
