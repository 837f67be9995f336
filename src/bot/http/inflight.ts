/** Counts requests in progress so shutdown can wait for in-flight turns to finish. */
export class InflightTracker {
  private count = 0;
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.count;
  }

  async track<T>(fn: () => Promise<T>): Promise<T> {
    this.count += 1;
    try {
      return await fn();
    } finally {
      this.count -= 1;
      if (this.count === 0) this.waiters.splice(0).forEach((w) => w());
    }
  }

  /** Resolves true when idle, false if `timeoutMs` passed first. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
