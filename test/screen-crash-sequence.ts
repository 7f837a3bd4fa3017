/**
 * Output and resizes that make @xterm/headless 6.0 (with `scrollback: 0`, as the screen
 * model uses) throw "Cannot set properties of undefined (setting 'isWrapped')" from its
 * parser: the screen-skip fuzz stream of seed 99 (40x10, resizes to 39x6, 21x7, 26x11),
 * reduced by deleting every op and byte range that the throw did not need. With
 * `scrollback: 1` the same steps parse fine.
 */
export type CrashStep = { output: string } | { cols: number; rows: number };

export const CRASH_START = { cols: 40, rows: 10 };

export const CRASH_STEPS: readonly CrashStep[] = [
  { cols: 39, rows: 6 },
  // 100 characters wrap over three rows; CSI 4 e moves the cursor 4 rows down (clamped).
  { output: `${'y'.repeat(100)}\x1b[4e` },
  { cols: 21, rows: 7 },
  { cols: 26, rows: 11 },
  // The second line feed is where xterm throws.
  { output: `${'y'.repeat(10)}\n\n` },
];
