// The business day runs 04:00–04:00 Asia/Shanghai (UTC+8, no daylight saving): a ride at 01:30
// belongs to the previous day.

export const shanghaiOffsetMs = 8 * 3600_000;
export const businessDayStartHour = 4;

/** YYYY-MM-DD business date of an instant. */
export function businessDateOf(at: Date): string {
  const shifted = new Date(at.getTime() + shanghaiOffsetMs - businessDayStartHour * 3600_000);
  return shifted.toISOString().slice(0, 10);
}

/** The instant a business date starts (04:00 Shanghai) and ends (next day 04:00). */
export function businessDayBounds(businessDate: string): { start: Date; end: Date } {
  const start = new Date(Date.parse(`${businessDate}T00:00:00Z`) - shanghaiOffsetMs + businessDayStartHour * 3600_000);
  return { start, end: new Date(start.getTime() + 86_400_000) };
}

/** Shanghai wall-clock parts of an instant. */
export function shanghaiParts(at: Date): { date: string; hour: number; minute: number; weekday: number } {
  const local = new Date(at.getTime() + shanghaiOffsetMs);
  return {
    date: local.toISOString().slice(0, 10),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    weekday: local.getUTCDay(),
  };
}
