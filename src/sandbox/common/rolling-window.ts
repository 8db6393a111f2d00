// Rolling-window request counter: at most `max` requests in any `intervalMs` window.
// Stores timestamps in a ring buffer, so each check is O(1) amortised.
export interface WindowDecision {
  allowed: boolean;
  remaining: number;
  /** Milliseconds until one more request would be allowed (0 when allowed). */
  retryAfterMs: number;
}

export class RollingWindow {
  private readonly stamps: number[] = [];
  private head = 0;

  constructor(public max: number, public intervalMs: number) {}

  hit(now: number): WindowDecision {
    const floor = now - this.intervalMs;
    while (this.head < this.stamps.length && this.stamps[this.head]! <= floor) this.head++;
    if (this.head > 1024 && this.head * 2 > this.stamps.length) {
      this.stamps.splice(0, this.head);
      this.head = 0;
    }
    const inWindow = this.stamps.length - this.head;
    if (inWindow >= this.max) {
      // max <= 0 allows nothing: there is no oldest stamp, so wait a whole interval
      const oldest = this.stamps[this.head] ?? now;
      return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, oldest + this.intervalMs - now) };
    }
    this.stamps.push(now);
    return { allowed: true, remaining: this.max - inWindow - 1, retryAfterMs: 0 };
  }
}
