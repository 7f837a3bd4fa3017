import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { nativeBuild } from '../backends/landlock/native-addon.js';

const run = promisify(execFile);

/** native/binding.gyp's `celistra-audit` target, built beside the exec helper. */
export function auditReaderPath(): string {
  return join(dirname(nativeBuild().helperPath), 'celistra-audit');
}

export function readerBuilt(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const CAP_AUDIT_CONTROL = 30n;
const CAP_AUDIT_READ = 37n;

/** This process's effective capabilities, from /proc/self/status. */
function effectiveCapabilities(): bigint {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CapEff:'));
  return line ? BigInt(`0x${line.slice(7).trim()}`) : 0n;
}

export function holdsCapability(which: 'audit-read' | 'audit-control'): boolean {
  const bit = which === 'audit-read' ? CAP_AUDIT_READ : CAP_AUDIT_CONTROL;
  try {
    return ((effectiveCapabilities() >> bit) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** The kernel's audit switch: 0 off, 1 on, 2 on and locked until reboot. */
export interface KernelAuditState {
  enabled: number;
  /** auditd's pid, 0 when no audit daemon is registered. */
  auditdPid: number;
  lost: number;
  backlogLimit: number;
}

/** AUDIT_GET through the reader binary; needs CAP_AUDIT_CONTROL. Throws with the reader's message. */
export async function kernelAuditState(readerPath: string): Promise<KernelAuditState> {
  const { stdout } = await runReader(readerPath, ['status']);
  const f = Object.fromEntries(stdout.trim().split(' ').map((kv) => kv.split('=') as [string, string]));
  return { enabled: Number(f.enabled), auditdPid: Number(f.auditd_pid), lost: Number(f.lost), backlogLimit: Number(f.backlog_limit) };
}

/** Switches kernel audit for the whole host; returns the previous state. Needs CAP_AUDIT_CONTROL. */
export async function setKernelAudit(readerPath: string, enabled: 0 | 1): Promise<number> {
  const { stdout } = await runReader(readerPath, ['set-enabled', String(enabled)]);
  const was = /was=(\d+)/.exec(stdout);
  if (!was) throw new Error(`unexpected answer from celistra-audit: ${stdout.trim()}`);
  return Number(was[1]);
}

async function runReader(readerPath: string, args: string[]): Promise<{ stdout: string }> {
  try {
    return await run(readerPath, args, { timeout: 5_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error((err.stderr ?? '').trim() || err.message);
  }
}
