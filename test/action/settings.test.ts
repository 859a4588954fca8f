import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { INPUTS, getSettings, relayCredential } from '../../action/settings.ts';

/** The runner's spelling of an input's variable: `INPUT_` + the name upper-cased, hyphens kept. */
const inputVar = (name: string): string => `INPUT_${name.toUpperCase()}`;

const touched = [
  ...Object.values(INPUTS).map(inputVar),
  'GITHUB_REPOSITORY',
  'GITHUB_RUN_ID',
  'GITHUB_RUN_ATTEMPT',
  'GITHUB_SHA',
  'GITHUB_REF',
  'GITHUB_ACTOR',
  'GITHUB_TRIGGERING_ACTOR',
  'GITHUB_SERVER_URL',
  'GITHUB_WORKSPACE',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'GITHUB_WORKFLOW_REF',
  'GITHUB_EVENT_NAME',
  'GITHUB_EVENT_PATH',
];
let saved: Record<string, string | undefined> = {};
let stdout: string[] = [];

function setEnv(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) process.env[name] = value;
}

beforeEach(() => {
  saved = Object.fromEntries(touched.map((name) => [name, process.env[name]]));
  for (const name of touched) Reflect.deleteProperty(process.env, name);
  setEnv({
    'INPUT_RELAY-URL': 'https://relay.example.workers.dev/',
    'INPUT_RELAY-TOKEN': 'relay-t0ken-value',
    GITHUB_REPOSITORY: 'octo/potato-facts',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '2',
    GITHUB_SHA: 'abc123',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_ACTOR: 'mona',
    GITHUB_SERVER_URL: 'https://github.example.com',
    GITHUB_WORKSPACE: '/home/runner/work/app',
  });
  stdout = [];
  // @actions/core masks values with `::add-mask::` workflow commands on stdout.
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = value;
  }
});

const masked = (): string[] =>
  stdout.flatMap((chunk) => chunk.split(/\r?\n/)).filter((line) => line.startsWith('::add-mask::')).map((line) => line.slice(12));

describe('getSettings', () => {
  it("reads every input from the runner's INPUT_ variables, hyphens kept and trimmed", () => {
    setEnv({
      INPUT_CONFIG: ' deploy/prod.yml ',
      INPUT_TARGET: 'prod',
      INPUT_PHASE: 'beforeDeployment',
      'INPUT_RELAY-URL': 'https://relay.example.workers.dev',
      'INPUT_GITHUB-TOKEN': 'ghs_token',
      'INPUT_DEPLOYMENT-ID': 'custom/id',
      INPUT_CONTEXT: '{"team": "payments"}',
      INPUT_SECRETS: '{"ci_token": "ci-s3cr3t"}',
      'INPUT_WEBHOOK-SIGNING-SECRET': 'whsec_c2lnbmluZy1zZWNyZXQ=',
      'INPUT_PARK-AFTER': ' 10m ',
      GITHUB_WORKFLOW_REF: 'octo/potato-facts/.github/workflows/deploy.yml@refs/heads/main',
      GITHUB_EVENT_NAME: 'push',
    });
    expect(getSettings()).toEqual({
      config: 'deploy/prod.yml',
      target: 'prod',
      phase: 'beforeDeployment',
      relayUrl: 'https://relay.example.workers.dev',
      relayToken: 'relay-t0ken-value',
      webhookSigningSecret: 'whsec_c2lnbmluZy1zZWNyZXQ=',
      secrets: { ci_token: 'ci-s3cr3t' },
      context: { team: 'payments' },
      githubToken: 'ghs_token',
      deploymentId: 'custom/id',
      parkAfterMs: 600_000,
      resumeRequested: false,
      github: {
        repository: 'octo/potato-facts',
        sha: 'abc123',
        ref: 'refs/heads/main',
        runId: '4242',
        runAttempt: '2',
        actor: 'mona',
        initiator: 'mona',
        serverUrl: 'https://github.example.com',
        workspace: '/home/runner/work/app',
        runUrl: 'https://github.example.com/octo/potato-facts/actions/runs/4242',
        attemptUrl: 'https://github.example.com/octo/potato-facts/actions/runs/4242/attempts/2',
        workflowRef: 'octo/potato-facts/.github/workflows/deploy.yml@refs/heads/main',
        eventName: 'push',
        eventPath: '',
      },
    });
  });

  it('takes the initiator from GITHUB_TRIGGERING_ACTOR (who started this attempt), else GITHUB_ACTOR', () => {
    setEnv({ GITHUB_TRIGGERING_ACTOR: 'hubot' });
    expect(getSettings().github).toMatchObject({ actor: 'mona', initiator: 'hubot' });
    setEnv({ GITHUB_TRIGGERING_ACTOR: '' });
    expect(getSettings().github.initiator).toBe('mona');
    Reflect.deleteProperty(process.env, 'GITHUB_ACTOR');
    expect(getSettings().github.initiator).toBe('');
  });

  it('refuses a phase that is not a constraint list, and a phase without a target', () => {
    setEnv({ INPUT_TARGET: 'prod', INPUT_PHASE: 'deploy' });
    expect(() => getSettings()).toThrow("input phase: 'deploy' is not a constraint list; use beforeDeployment or afterDeployment");
    setEnv({ INPUT_TARGET: '', INPUT_PHASE: 'beforeDeployment' });
    expect(() => getSettings()).toThrow('input phase needs input target');
  });

  it('defaults the config, the target and the deployment id, and strips the relay URL of its slash', () => {
    const settings = getSettings();
    expect(settings.config).toBe('deploy.yml');
    expect(settings.target).toBeNull();
    expect(settings.deploymentId).toBe('octo/potato-facts/4242');
    expect(settings.relayUrl).toBe('https://relay.example.workers.dev');
    expect(settings.secrets).toEqual({});
    expect(settings.context).toEqual({});
    expect(settings.parkAfterMs).toBeNull();
    expect(settings.resumeRequested).toBe(false);
  });

  it('requires relay-url, naming the input', () => {
    delete process.env['INPUT_RELAY-URL'];
    expect(() => getSettings()).toThrow(/relay-url/);
  });

  it('rejects a relay-url that is not http(s), naming the input', () => {
    process.env['INPUT_RELAY-URL'] = 'relay.example.workers.dev';
    expect(() => getSettings()).toThrow(/^input relay-url: /);
  });

  it('without relay-token and without an OIDC token endpoint, says how to get either', () => {
    delete process.env['INPUT_RELAY-TOKEN'];
    expect(() => getSettings()).toThrow(/^input relay-token is empty and the job cannot get an OIDC token: add `permissions: id-token: write`/);
  });

  it('without relay-token uses OIDC when the runner offers a token endpoint', () => {
    delete process.env['INPUT_RELAY-TOKEN'];
    process.env.ACTIONS_ID_TOKEN_REQUEST_URL = 'http://127.0.0.1:1/token?api-version=2.0';
    const settings = getSettings();
    expect(settings.relayToken).toBeNull();
    expect(typeof relayCredential(settings.relayToken, settings.relayUrl)).toBe('function');
    expect(relayCredential('relay-t0ken-value', settings.relayUrl)).toBe('relay-t0ken-value');
  });

  it('masks the relay token and every secret value', () => {
    process.env.INPUT_SECRETS = 'ci_token: ci-s3cr3t\nslack_webhook: https://hooks.slack.example/T/B/x\nempty: ""';
    process.env['INPUT_WEBHOOK-SIGNING-SECRET'] = 'whsec_c2lnbmluZy1zZWNyZXQ=';
    const settings = getSettings();
    expect(settings.secrets).toEqual({ ci_token: 'ci-s3cr3t', slack_webhook: 'https://hooks.slack.example/T/B/x', empty: '' });
    expect(masked()).toEqual(['relay-t0ken-value', 'whsec_c2lnbmluZy1zZWNyZXQ=', 'ci-s3cr3t', 'https://hooks.slack.example/T/B/x']);
  });

  it('names the input and never echoes the text of secrets that do not parse', () => {
    process.env.INPUT_SECRETS = '{"ci_token": "sup3r-s3cret-value", ';
    const error = (() => {
      try {
        getSettings();
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('input secrets: is neither a JSON nor a YAML map');
    expect((error as Error).message).not.toContain('sup3r');
  });

  // YAML would read `007` as the number 7 and `1.10` as 1.1: the secret sent would not be
  // the one the user wrote, and `::add-mask::7` would mask every 7 in the log.
  it('keeps the text of YAML scalars as written', () => {
    process.env.INPUT_SECRETS = 'pin: 007\nid: 12345678901234567890';
    process.env.INPUT_CONTEXT = 'version: 1.10\nport: 0x1F';
    const settings = getSettings();
    expect(settings.secrets).toEqual({ pin: '007', id: '12345678901234567890' });
    expect(settings.context).toEqual({ version: '1.10', port: '0x1F' });
    expect(masked()).toContain('007');
    expect(masked()).not.toContain('7');
  });
});

describe('map inputs (context, secrets): JSON or YAML', () => {
  /** The `context` (or `secrets`) input as getSettings reads it. */
  const read = (name: 'context' | 'secrets', text: string): Record<string, string> => {
    setEnv({ [inputVar(INPUTS[name])]: text });
    return getSettings()[name];
  };

  it('reads a JSON map, scalars as strings, null as empty', () => {
    expect(read('context', '{"team": "payments", "replicas": 3, "canary": true, "note": null}')).toEqual({
      team: 'payments',
      replicas: '3',
      canary: 'true',
      note: '',
    });
  });

  it('reads a YAML map', () => {
    expect(read('context', 'team: payments\nregion: "eu-west-1"\n')).toEqual({ team: 'payments', region: 'eu-west-1' });
  });

  it.each(['', '  \n ', 'null', '~'])('is empty for blank or null input %j', (text) => {
    expect(read('context', text)).toEqual({});
  });

  it('rejects a bare value or a list without echoing it', () => {
    for (const text of ['ghp_SomeSecretTokenValue', '- a\n- b', '42']) {
      expect(() => read('secrets', text)).toThrow(new Error('input secrets: must be a map of names to values'));
    }
  });

  it('rejects a nested value naming its key, not its value', () => {
    expect(() => read('secrets', '{"aws": {"key": "AKIAS3CRET"}}')).toThrow(new Error("input secrets: 'aws' must be a string, number or boolean"));
  });

  it('rejects malformed YAML without echoing it', () => {
    expect(() => read('context', 'a: [unclosed s3cret')).toThrow(new Error('input context: is neither a JSON nor a YAML map'));
  });
});

