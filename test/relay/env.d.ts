type RelayEnv = import('../../relay/env.ts').Env;

declare namespace Cloudflare {
  // The relay's bindings, as cloudflare:test's `env` sees them.
  interface Env extends RelayEnv {}
}
