import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Proof that a daemon switched kernel audit on (--enable-kernel-audit): its pid, in the
 * runtime dir, written before the switch and removed after switching back off. A daemon
 * killed in between (SIGKILL, a crash) cannot switch back; the next daemon finds the mark
 * and does it. The daemon lock makes the finder the only daemon of this user, so a mark
 * naming another pid is always left by a dead one. The runtime dir is emptied at boot,
 * as the kernel's audit switch is reset.
 */
export class KernelAuditMarker {
  constructor(private readonly path: string) {}

  /** The pid of a dead daemon that left kernel audit on, if any. */
  leftBy(ownPid = process.pid): number | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return undefined;
    }
    const pid = Number.parseInt(text.trim(), 10);
    // An unreadable mark still says audit was switched on by a daemon: pid 0, unknown.
    if (!Number.isInteger(pid) || pid <= 0) return 0;
    return pid === ownPid ? undefined : pid;
  }

  /** Before switching audit on, or when taking over a dead daemon's switch. */
  mark(ownPid = process.pid): void {
    const fresh = `${this.path}.${ownPid}`;
    writeFileSync(fresh, `${ownPid}\n`, { mode: 0o600 });
    renameSync(fresh, this.path);
  }

  /** After switching audit back off. */
  clear(): void {
    rmSync(this.path, { force: true });
  }
}
