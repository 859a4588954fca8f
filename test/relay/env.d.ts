import type { Env as RelayEnv } from '../../relay/env.ts';

declare global {
  namespace Cloudflare {
    // cloudflare:test's `env` has the relay's bindings (the declaration merging workers-types documents).
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Env extends RelayEnv {}
  }
}
