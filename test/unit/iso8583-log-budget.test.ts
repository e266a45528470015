// The log budget of the ISO server: at most N lines per window, counted again in the next window.
import { describe, expect, it } from 'vitest';
import { LogBudget } from '../../src/adapters/iso8583/log-budget.js';

describe('LogBudget', () => {
  it('allows linesPerWindowMax lines per window, then refuses until the window has passed', () => {
    let nowMs = 1_000;
    const budget = new LogBudget(3, 1_000, () => nowMs);
    expect([budget.take(), budget.take(), budget.take(), budget.take()]).toEqual([true, true, true, false]);
    nowMs += 999;
    expect(budget.take()).toBe(false);
    nowMs += 1;
    expect([budget.take(), budget.take(), budget.take(), budget.take()]).toEqual([true, true, true, false]);
  });

  it('a budget of 0 refuses every line', () => {
    const budget = new LogBudget(0, 1_000, () => 0);
    expect(budget.take()).toBe(false);
  });
});
