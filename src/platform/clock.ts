// The clock is injected so that business-day and expiry logic can be tested at any instant.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function fixedClock(at: Date): Clock & { set(at: Date): void; advance(ms: number): void } {
  let current = at.getTime();
  return {
    now: () => new Date(current),
    set: (next: Date) => {
      current = next.getTime();
    },
    advance: (ms: number) => {
      current += ms;
    },
  };
}
