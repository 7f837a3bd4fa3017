import { fstatSync, readFileSync } from 'node:fs';

/**
 * Whether this process may read the terminal on `fd` without the kernel stopping it
 * (SIGTTIN): true unless that terminal is this process's controlling terminal and
 * another process group is in its foreground (the shell's `&`, or Ctrl-Z then `bg`).
 * Linux only: read from /proc/self/stat (pgrp, tty_nr, tpgid), no ioctl needed. Where it
 * cannot tell, it answers true: the kernel's own job control then applies.
 */
export function inForeground(fd: number): boolean {
  let stat: string;
  let rdev: number;
  try {
    stat = readFileSync('/proc/self/stat', 'latin1');
    rdev = fstatSync(fd).rdev;
  } catch {
    return true;
  }
  // The fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]);
  const ttyNr = Number(fields[4]);
  const tpgid = Number(fields[5]);
  if (!Number.isInteger(pgrp) || !Number.isInteger(ttyNr) || !Number.isInteger(tpgid)) return true;
  // tty_nr is the kernel's encoded device number, which is how Node reports st_rdev too.
  if (ttyNr !== rdev) return true;
  return tpgid === pgrp;
}
