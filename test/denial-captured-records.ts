/**
 * `celistra-audit read` output captured on the project machine (Linux 6.18, Landlock
 * ABI 7, audit switched on for the capture), verbatim. An agent run with the Landlock
 * backend without user namespaces tried to create /tmp/den/outside.txt, mkdir
 * /tmp/den/newdir and write /tmp/den/outside2.txt from a child shell (RUN_A); a second
 * run appended to "/tmp/den/with space/f.txt", overwrote /tmp/den/existing.txt, signalled
 * a process outside its sandbox and removed /tmp/den/existing.txt (RUN_B).
 */
export const RUN_A = [
  'ready',
  '1423 audit(1795655288.484:3): domain=18dcb9d23 blockers=fs.make_reg path="/tmp/den" dev="vda" ino=2212394',
  '1424 audit(1795655288.484:3): domain=18dcb9d23 status=allocated mode=enforcing pid=18699 uid=0 exe="/work/main/native/build/Release/celistra-exec" comm="celistra-exec"',
  '1300 audit(1795655288.484:3): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=55b2ec683da8 a2=241 a3=1b6 items=0 ppid=18698 pid=18699 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="sh" exe="/usr/bin/dash" key=(null)',
  '1423 audit(1795655288.488:4): domain=18dcb9d23 blockers=fs.make_dir path="/tmp/den" dev="vda" ino=2212394',
  '1300 audit(1795655288.488:4): arch=c000003e syscall=83 success=no exit=-13 a0=7fffab70c9e1 a1=1ff a2=0 a3=7f44cf96e958 items=0 ppid=18699 pid=18700 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="mkdir" exe="/usr/bin/mkdir" key=(null)',
  '1423 audit(1795655288.488:5): domain=18dcb9d23 blockers=fs.make_reg path="/tmp/den" dev="vda" ino=2212394',
  '1300 audit(1795655288.488:5): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=55c01fc8f928 a2=241 a3=1b6 items=0 ppid=18699 pid=18701 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="sh" exe="/usr/bin/dash" key=(null)',
  '1424 audit(1795655288.740:6): domain=18dcb9d23 status=deallocated denials=3',
];
/** The exec helper (the agent's `pid`) that started RUN_A's sandboxed command 18699. */
export const RUN_A_HELPER_PID = 18698;

export const RUN_B = [
  '1423 audit(1795655320.860:8): domain=18dcb9d45 blockers=fs.write_file path=2F746D702F64656E2F776974682073706163652F662E747874 dev="vda" ino=2212340',
  '1424 audit(1795655320.860:8): domain=18dcb9d45 status=allocated mode=enforcing pid=19213 uid=0 exe="/work/main/native/build/Release/celistra-exec" comm="celistra-exec"',
  '1300 audit(1795655320.860:8): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=55b6cf3f4da0 a2=441 a3=1b6 items=0 ppid=19212 pid=19213 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="sh" exe="/usr/bin/dash" key=(null)',
  '1423 audit(1795655320.860:9): domain=18dcb9d45 blockers=fs.write_file path="/tmp/den/existing.txt" dev="vda" ino=2212341',
  '1300 audit(1795655320.860:9): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=55b6cf3f4da0 a2=241 a3=1b6 items=0 ppid=19212 pid=19213 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="sh" exe="/usr/bin/dash" key=(null)',
  '1423 audit(1795655320.860:10): domain=18dcb9d45 blockers=scope.signal opid=19198 ocomm="sleep"',
  '1300 audit(1795655320.860:10): arch=c000003e syscall=62 success=no exit=-1 a0=4afe a1=0 a2=0 a3=7fe3de52eac0 items=0 ppid=19212 pid=19213 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="sh" exe="/usr/bin/dash" key=(null)',
  '1423 audit(1795655320.864:11): domain=18dcb9d45 blockers=fs.remove_file path="/tmp/den" dev="vda" ino=2212394',
  '1300 audit(1795655320.864:11): arch=c000003e syscall=263 success=no exit=-13 a0=ffffff9c a1=55c45a821bf0 a2=0 a3=7fd6b43f8f80 items=0 ppid=19213 pid=19214 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="rm" exe="/usr/bin/rm" key=(null)',
  '1424 audit(1795655320.964:12): domain=18dcb9d45 status=deallocated denials=4',
];

/**
 * Default mode (user + mount namespaces): writes outside are refused by the read-only
 * mount (EROFS) before Landlock is asked, so only scope denials such as this connect
 * to an abstract unix socket outside the sandbox reach the audit log. The domain's
 * creator 30419 is the agent's pid-namespace init.
 */
export const RUN_C_NAMESPACES = [
  '1423 audit(1795655544.768:254): domain=18dcba592 blockers=scope.abstract_unix_socket path=0063656C69737472612D70726F62652D3133393834',
  '1424 audit(1795655544.768:254): domain=18dcba592 status=allocated mode=enforcing pid=30419 uid=0 exe="/work/main/native/build/Release/celistra-exec" comm="celistra-exec"',
  '1300 audit(1795655544.768:254): arch=c000003e syscall=42 success=no exit=-1 a0=5 a1=7ffe41e0a8b0 a2=17 a3=7fd2c9635a08 items=0 ppid=30420 pid=30423 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="socat" exe="/usr/bin/socat" key=(null)',
  '1424 audit(1795655544.812:255): domain=18dcba592 status=deallocated denials=1',
];
