const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** C's ctime() without the trailing newline: `Sat Aug 24 08:34:08 2024`, local time. */
export function ctime(date: Date): string {
  return (
    `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${String(date.getDate()).padStart(2, ' ')} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${date.getFullYear()}`
  );
}

/** strftime("%Y:%m:%d %H:%M:%S"), local time, as clamscan's Start/End Date lines. */
export function summaryDate(date: Date): string {
  return (
    `${date.getFullYear()}:${pad(date.getMonth() + 1)}:${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** When a scan ran, for the last lines of the tools' summaries. */
export interface ScanTimes {
  started: Date;
  /** process.hrtime.bigint() at the start and the end. */
  startedAt: bigint;
  ended: Date;
  endedAt: bigint;
}

/** The `Time:`, `Start Date:` and `End Date:` lines every SCAN SUMMARY ends with. */
export function summaryTimeLines(times: ScanTimes): string[] {
  const elapsedMs = Number((times.endedAt - times.startedAt) / 1_000_000n);
  const seconds = Math.floor(elapsedMs / 1000);
  return [
    `Time: ${seconds}.${String(elapsedMs % 1000).padStart(3, '0')} sec (${Math.floor(seconds / 60)} m ${seconds % 60} s)`,
    `Start Date: ${summaryDate(times.started)}`,
    `End Date:   ${summaryDate(times.ended)}`,
  ];
}
