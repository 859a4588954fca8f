/**
 * The part of `node:crypto` the relay uses (workerd provides it with the nodejs_compat flag):
 * the relay's type environment is workers-types only, without @types/node.
 */
declare module 'node:crypto' {
  interface KeyObject {
    readonly asymmetricKeyType?: string;
    export(options: { type: 'pkcs8'; format: 'pem' }): string;
  }
  export function createPrivateKey(key: string): KeyObject;
}
