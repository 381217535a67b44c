// Bounds the file bytes that transfers in flight hold in memory. Many small files can be in
// flight at once (small-file throughput is latency-bound), while large ones, each holding
// several multipart parts, are limited by what they hold, not by their count.

interface Waiter {
  bytes: number;
  grant: () => void;
}

export class ByteBudget {
  readonly limit: number;
  private used = 0;
  private readonly waiting: Waiter[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  get inUse(): number {
    return this.used;
  }

  /**
   * Waits until `bytes` fit, first come first served (a large reservation is not starved by a
   * stream of small ones). One reservation larger than the whole budget is granted when
   * nothing else is held. Returns the release function; calling it more than once is harmless.
   */
  async acquire(bytes: number): Promise<() => void> {
    if (this.waiting.length === 0 && this.fits(bytes)) this.used += bytes;
    else await new Promise<void>((grant) => this.waiting.push({ bytes, grant }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.grantWaiting();
    };
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.limit;
  }

  private grantWaiting(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.bytes)) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.grant();
    }
  }
}
