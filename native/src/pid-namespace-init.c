#define _GNU_SOURCE
#include "pid-namespace-init.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "capabilities.h"
#include "command-exec.h"
#include "helper-exit.h"
#include "landlock-ruleset.h"
#include "mount-fence.h"
#include "namespace-clone.h"
#include "network-namespace.h"
#include "seccomp-filter.h"
#include "signal-relay.h"
#include "start-gate.h"
#include "user-namespace.h"

/* What the init needs from the top process, read there before the namespaces exist. */
struct init_setup {
  const struct helper_options *o;
  int abi;
  const sigset_t *mask;
  int foreground;
  int leave_session;
  uid_t uid;
  gid_t gid;
  char cwd[PATH_MAX];
};

/* The outer helper holds the pipe's read end: once it is gone, the pipe has no reader. */
static int outer_helper_gone(int report_fd) {
  struct pollfd p = {.fd = report_fd, .events = POLLOUT};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

static void run_namespace_init(const struct init_setup *s, int report_fd) __attribute__((noreturn));

static void run_namespace_init(const struct init_setup *s, int report_fd) {
  const struct helper_options *o = s->o;
  start_gate_join();
  forget_helper_fail_hook();
  /* Like bwrap --die-with-parent: the kernel delivers this SIGKILL even to a pid-namespace
   * init, because it comes from outside the namespace. */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (outer_helper_gone(report_fd)) _exit(HELPER_EXIT_NAMESPACE);

  /* Leave the caller's controlling terminal so TIOCSTI cannot reach the user's shell. */
  if (s->leave_session && setsid() < 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "setsid failed");

  const char *step = "";
  if (write_identity_map(s->uid, s->gid, &step) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot enter a user namespace (%s)", step);
  struct mount_fence mounts = {0};
  apply_mount_fence(o, &mounts);
  /* Owned by our user namespace, so its own status tells a network failure apart. */
  if (o->network_off) {
    if (unshare(CLONE_NEWNET) != 0) helper_fail(HELPER_EXIT_NETWORK, 1, "cannot create a network namespace");
    bring_loopback_up();
  }
  /* The inherited cwd still points into the pre-bind (now read-only) mount. */
  if (chdir(s->cwd) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot return to %s", s->cwd);

  /* Read-only like the /proc it covers (the fence remounted everything read-only);
   * nosuid/nodev/noexec as the host's, which the kernel requires inside a user namespace. */
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) != 0) {
    helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot mount /proc for the agent's pid namespace");
  }
  /* Not ptrace-able by the command, whose uid it shares. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  drop_all_capabilities();
  apply_landlock(o, s->abi, &mounts);
  clear_own_capabilities();
  apply_seccomp_program(&o->seccomp);

  /*
   * vfork: the child only execs (or writes one line and _exits), so it need not copy this
   * process's page tables (~60 µs a run). It runs on this process's stack until then and
   * never returns from exec_command; what it changes for itself (its process group,
   * signal mask and SIGTTOU disposition) is its own, not shared through the memory.
   */
  pid_t command = vfork();
  if (command < 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot fork the command");
  if (command == 0) exec_command(o, s->mask, s->foreground);

  int status = 0;
  /* PARENT_DIED_SIGNAL can only come from the agent here (the init's own parent-death
   * signal is SIGKILL): keep waiting. */
  while (relay_until_exit(command, &status, 0) != 0) {
  }
  ssize_t ignored = write(report_fd, &status, sizeof status);
  (void)ignored;
  _exit(shell_status(status));
}

pid_t start_namespace_init(const struct helper_options *o, int abi, const sigset_t *mask, int foreground, int leave_session,
                           int *report_fd) {
  struct init_setup s = {.o = o, .abi = abi, .mask = mask, .foreground = foreground, .leave_session = leave_session,
                          .uid = geteuid(), .gid = getegid()};
  if (getcwd(s.cwd, sizeof s.cwd) == NULL) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot read the working directory");
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot create a pipe");
  pid_t init = clone_into_namespaces(AGENT_NAMESPACES);
  if (init < 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot enter a user namespace (clone with new user, mount, pid and IPC namespaces)");
  if (init == 0) {
    close(report[0]);
    run_namespace_init(&s, report[1]);
  }
  close(report[1]);
  *report_fd = report[0];
  return init;
}
