/**
 * The relay's GitHub App (secrets GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY, var GITHUB_API_URL),
 * read once per set of values. GitHub hands out PKCS#1 keys (`BEGIN RSA PRIVATE KEY`); the
 * JWT library takes only PKCS#8 on Workers, so the runtime's own node:crypto converts the key
 * (no hand-written ASN.1). Messages name what is wrong, never the key's text.
 */
import { createPrivateKey } from 'node:crypto';
import { DEFAULT_RESUME_RETRY_SECONDS } from '../../shared/park.ts';
import type { RunEnv } from '../run/env.ts';

const DEFAULT_API_URL = 'https://api.github.com';
/** A numeric App id, or an App's client id (GitHub accepts either as the JWT's issuer). */
const APP_ID = /^(\d{1,20}|Iv[0-9A-Za-z.]{1,60})$/;
/** Thirty days: a longer retry is a typo, and a resume refused that long needs a person anyway. */
const MAX_RESUME_RETRY_SECONDS = 30 * 24 * 60 * 60;

/** What the relay dispatches with: the App id, its key as PKCS#8 PEM, and the REST API's base URL. */
export type GitHubApp = { appId: string; privateKey: string; apiUrl: string };

/** The App as configured (`app` set only when `configured`), with a message for GET /healthz. */
export type AppSetup =
  | { status: 'configured'; app: GitHubApp; message: string }
  | { status: 'not configured' | 'misconfigured'; app: null; message: string };

/** The setup of the last values read: an isolate serves one configuration. */
let last: { key: string; setup: AppSetup } | undefined;

/** The GitHub App of `env`, parsed (and its key converted) once per set of values. */
export function appSetup(env: RunEnv): AppSetup {
  const id = (env.GITHUB_APP_ID ?? '').trim();
  const pem = env.GITHUB_APP_PRIVATE_KEY ?? '';
  const apiUrl = (env.GITHUB_API_URL ?? '').trim().replace(/\/+$/, '') || DEFAULT_API_URL;
  const key = JSON.stringify([id, pem, apiUrl]);
  if (last?.key !== key) last = { key, setup: parseSetup(id, pem, apiUrl) };
  return last.setup;
}

function parseSetup(id: string, pem: string, apiUrl: string): AppSetup {
  if (id === '' && pem.trim() === '') {
    const message = 'no GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY): parked deployments resume by hand';
    return { status: 'not configured', app: null, message };
  }
  const problem = configProblem(id, pem, apiUrl);
  if (problem !== null) return { status: 'misconfigured', app: null, message: `${problem}: parked deployments resume by hand` };
  const privateKey = pkcs8(pem);
  if (privateKey === null) {
    const message = 'GITHUB_APP_PRIVATE_KEY is not an RSA private key in PEM (PKCS#1 or PKCS#8): parked deployments resume by hand';
    return { status: 'misconfigured', app: null, message };
  }
  return { status: 'configured', app: { appId: id, privateKey, apiUrl }, message: `GitHub App ${id} at ${apiUrl}` };
}

function configProblem(id: string, pem: string, apiUrl: string): string | null {
  if (id === '') return 'GITHUB_APP_PRIVATE_KEY is set but GITHUB_APP_ID is not';
  if (pem.trim() === '') return 'GITHUB_APP_ID is set but GITHUB_APP_PRIVATE_KEY is not';
  if (!APP_ID.test(id)) return 'GITHUB_APP_ID is not a GitHub App id (digits) or client id (Iv…)';
  if (URL.parse(apiUrl)?.protocol.match(/^https?:$/) == null) return 'GITHUB_API_URL is not an http(s) URL';
  return null;
}

/** The key as PKCS#8 PEM; null when it does not parse as an RSA private key. `\n` escapes (a key pasted into one line) count as line breaks. */
function pkcs8(pem: string): string | null {
  try {
    const key = createPrivateKey(pem.replace(/\\n/g, '\n').trim());
    return key.asymmetricKeyType === 'rsa' ? key.export({ type: 'pkcs8', format: 'pem' }) : null;
  } catch {
    return null;
  }
}

/**
 * RESUME_RETRY_SECONDS: how long a refused resume is retried; the default when unset or empty,
 * null when it is not a whole number of seconds from 1 to 30 days.
 */
export function resumeRetrySeconds(value: string | undefined): number | null {
  const text = (value ?? '').trim();
  if (text === '') return DEFAULT_RESUME_RETRY_SECONDS;
  if (!/^\d{1,10}$/.test(text)) return null;
  const seconds = Number(text);
  return seconds >= 1 && seconds <= MAX_RESUME_RETRY_SECONDS ? seconds : null;
}
