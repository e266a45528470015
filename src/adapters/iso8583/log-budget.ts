// A budget of log lines per time window: warnings about a sender's bad input (malformed frames, bad
// MACs) are bounded per connection and globally, so a flood of garbage cannot fill the disk.

export class LogBudget {
  private windowStartMs = Number.NEGATIVE_INFINITY;
  private used = 0;

  constructor(
    private readonly linesPerWindowMax: number,
    private readonly windowMs: number,
    private readonly nowMs: () => number,
  ) {}

  /** True when one more line fits in the current window (and counts it). */
  take(): boolean {
    const now = this.nowMs();
    if (now - this.windowStartMs >= this.windowMs) {
      this.windowStartMs = now;
      this.used = 0;
    }
    if (this.used >= this.linesPerWindowMax) return false;
    this.used++;
    return true;
  }
}
