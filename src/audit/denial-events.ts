import { AUDIT_LANDLOCK_ACCESS, AUDIT_LANDLOCK_DOMAIN, AUDIT_SYSCALL, type AuditRecord } from './denial-records.js';

/** One access Landlock refused, with what the kernel said about it. */
export interface LandlockDenial {
  ts: number;
  serial: number;
  /** The Landlock domain (hex id): one per sandbox, shared by every process in it. */
  domain: string;
  /** What was refused, e.g. `fs.write_file`, `fs.make_reg`, `scope.signal`. */
  blockers: string[];
  /** The file, or for creations and removals the directory, the access was about. */
  path?: string;
  dev?: string;
  ino?: number;
  /** The process refused and its parent, when the kernel added a SYSCALL record. */
  pid?: number;
  ppid?: number;
  comm?: string;
  exe?: string;
  /** For scope denials: the process or socket outside the sandbox that was aimed at. */
  targetPid?: number;
  targetComm?: string;
}

/** A domain's first denial: who created it (the process that called landlock_restrict_self). */
export interface LandlockDomainStart {
  domain: string;
  creatorPid: number;
  exe?: string;
  comm?: string;
}

/** A domain is gone; the kernel reports how many denials it logged in all. */
export interface LandlockDomainEnd {
  domain: string;
  denials: number;
}

export type LandlockEvent =
  | { kind: 'denial'; denial: LandlockDenial }
  | { kind: 'domain-start'; domain: LandlockDomainStart }
  | { kind: 'domain-end'; domain: LandlockDomainEnd };

/**
 * Groups records into events. The kernel writes an event's records one after another
 * with one serial: the access record(s), the domain record on the domain's first denial,
 * then, when the process has an audit context, the SYSCALL record. A denial is complete
 * when its SYSCALL record or another serial arrives, or when the caller flushes (processes
 * started before audit was enabled get no SYSCALL record).
 */
export class LandlockEventAssembler {
  private pending: { serial: number; accesses: AuditRecord[] } | undefined;

  push(record: AuditRecord): LandlockEvent[] {
    const out: LandlockEvent[] = [];
    if (this.pending && this.pending.serial !== record.serial) out.push(...this.flush());
    if (record.type === AUDIT_LANDLOCK_ACCESS) {
      this.pending ??= { serial: record.serial, accesses: [] };
      this.pending.accesses.push(record);
    } else if (record.type === AUDIT_LANDLOCK_DOMAIN) {
      const domain = domainEvent(record);
      if (domain) out.push(domain);
    } else if (record.type === AUDIT_SYSCALL && this.pending) {
      out.push(...this.flush(record));
    }
    return out;
  }

  /** Completes the pending denial(s), with the SYSCALL record when there is one. */
  flush(syscall?: AuditRecord): LandlockEvent[] {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return [];
    return pending.accesses.map((a) => ({ kind: 'denial' as const, denial: denialOf(a, syscall) }));
  }

  get hasPending(): boolean {
    return this.pending !== undefined;
  }
}

function domainEvent(r: AuditRecord): LandlockEvent | undefined {
  const f = r.fields;
  if (!f.domain) return undefined;
  if (f.status === 'allocated' && isCount(f.pid)) {
    const domain: LandlockDomainStart = { domain: f.domain, creatorPid: Number(f.pid) };
    if (f.exe !== undefined) domain.exe = f.exe;
    if (f.comm !== undefined) domain.comm = f.comm;
    return { kind: 'domain-start', domain };
  }
  if (f.status === 'deallocated') return { kind: 'domain-end', domain: { domain: f.domain, denials: isCount(f.denials) ? Number(f.denials) : 0 } };
  return undefined;
}

function denialOf(access: AuditRecord, syscall: AuditRecord | undefined): LandlockDenial {
  const f = access.fields;
  const d: LandlockDenial = {
    ts: access.ts,
    serial: access.serial,
    domain: f.domain ?? '',
    blockers: (f.blockers ?? '').split(',').filter(Boolean),
  };
  // An abstract unix socket's name starts with a NUL byte; `@name` is how tools show it.
  if (f.path !== undefined) d.path = f.path.startsWith('\0') ? `@${f.path.slice(1)}` : f.path;
  if (f.dev !== undefined) d.dev = f.dev;
  if (isCount(f.ino)) d.ino = Number(f.ino);
  if (isCount(f.opid)) d.targetPid = Number(f.opid);
  if (f.ocomm !== undefined) d.targetComm = f.ocomm;
  if (syscall) {
    const s = syscall.fields;
    if (isCount(s.pid)) d.pid = Number(s.pid);
    if (isCount(s.ppid)) d.ppid = Number(s.ppid);
    if (s.comm !== undefined) d.comm = s.comm;
    if (s.exe !== undefined) d.exe = s.exe;
  }
  return d;
}

function isCount(v: string | undefined): v is string {
  return v !== undefined && /^\d+$/.test(v);
}
