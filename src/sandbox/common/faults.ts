// Injected faults, per tenant (HubSpot portal or Salesforce org): the next `count` calls answer `status`
// or are delayed by `latencyMs` (both may be set: delay, then fail).
export interface FaultSpec {
  status?: number;
  count: number;
  latencyMs?: number;
}

export class FaultQueue {
  private readonly pending = new Map<string, FaultSpec[]>();

  add(tenant: string, spec: FaultSpec): void {
    if (!(spec.count > 0)) return; // a fault for zero calls is no fault (it used to fire once)
    const list = this.pending.get(tenant) ?? [];
    list.push({ ...spec });
    this.pending.set(tenant, list);
  }

  /** Consumes one fault for this tenant, if any is queued. */
  take(tenant: string): { status?: number; latencyMs?: number } | null {
    const list = this.pending.get(tenant);
    if (!list || list.length === 0) return null;
    const head = list[0]!;
    head.count -= 1;
    if (head.count <= 0) list.shift();
    if (list.length === 0) this.pending.delete(tenant);
    return { status: head.status, latencyMs: head.latencyMs };
  }

  clear(tenant?: string): void {
    if (tenant === undefined) this.pending.clear();
    else this.pending.delete(tenant);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
