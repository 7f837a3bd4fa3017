import type { Attempt, Case } from '../case.js';
import type { VictimInfo } from '../stage.js';

/** Attach to, or write the memory of, another agent or the daemon. The victims watch their TracerPid and a canary. */
function attempts(label: string, v: VictimInfo, envSecret: string): Attempt[] {
  const settleMs = 250;
  return [
    {
      name: `python PTRACE_ATTACH ${label}`,
      via: 'python3',
      settleMs,
      script: `import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
if libc.ptrace(16, ${v.pid}, None, None) != 0:
    print('errno', ctypes.get_errno()); sys.exit(1)
time.sleep(0.3); libc.ptrace(17, ${v.pid}, None, None); print('attached')`,
    },
    {
      name: `python PTRACE_SEIZE ${label}`,
      via: 'python3',
      settleMs,
      script: `import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
if libc.ptrace(0x4206, ${v.pid}, None, None) != 0:
    print('errno', ctypes.get_errno()); sys.exit(1)
time.sleep(0.3); libc.ptrace(17, ${v.pid}, None, None); print('seized')`,
    },
    {
      name: `python process_vm_writev ${label}`,
      via: 'python3',
      settleMs,
      script: `import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
class IOV(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
buf = ctypes.create_string_buffer(b'PWNED-BY-AGENT', 14)
local = IOV(ctypes.addressof(buf), 14); remote = IOV(${v.canaryAddr}, 14)
libc.process_vm_writev.restype = ctypes.c_ssize_t
n = libc.process_vm_writev(${v.pid}, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
if n < 0:
    print('errno', ctypes.get_errno()); sys.exit(1)
print('wrote', n)`,
    },
    {
      name: `python write /proc/<pid>/mem ${label}`,
      via: 'python3',
      settleMs,
      script: `import os
fd = os.open('/proc/${v.pid}/mem', os.O_RDWR)
os.lseek(fd, ${v.canaryAddr}, 0); os.write(fd, b'PWNED-VIA-MEM'); print('wrote')`,
    },
    {
      name: `sh read /proc/<pid>/environ ${label}`,
      via: 'sh',
      // Reading another process's environment needs ptrace-read access to it.
      script: `tr '\\0' '\\n' < /proc/${v.pid}/environ`,
      secrets: [envSecret],
    },
  ];
}

const c: Case = {
  id: '20',
  title: 'ptrace, process_vm_writev, /proc/<pid>/mem of another agent or the daemon',
  section: 'E',
  expect: 'ptrace',
  attempts: (s) => [...attempts('<other agent>', s.victims.agent!, s.secrets.victimEnv), ...attempts('<daemon>', s.victims.daemon!, s.secrets.victimEnv)],
};
export default c;
