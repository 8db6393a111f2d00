// What the route modules share: the request context of an authenticated API call and the sandbox
// services they use. Kept in one small file so routes do not depend on the sandbox class itself.
import type { SandboxRequest, SandboxResponse } from '../common/http';
import type { Actor, DmlEnv, Transaction } from './dml';
import type { Org } from './org';
import type { AccessTokenData } from './oauth';

export interface ApiRequest extends SandboxRequest {
  org: Org;
  session: AccessTokenData;
  /** `v66.0` as in the path. */
  version: string;
  /** `66.0`. */
  versionNumber: string;
  /** Who a write is attributed to, and how change events name its origin. */
  actor: Actor;
}

export type ApiHandler = (req: ApiRequest) => SandboxResponse | Promise<SandboxResponse>;

export interface SandboxCore {
  /** Current time in ms (the injected clock). */
  now(): number;
  publicUrl(): string;
  env: DmlEnv;
  /**
   * Runs writes as one transaction: on a thrown error everything is undone; on success the change
   * events are published (unless `emitEvents` is false, as for silent seeding).
   */
  transaction<T>(org: Org, actor: Actor, fn: (tx: Transaction) => T, emitEvents?: boolean): T;
}
