#define _GNU_SOURCE
#include "pid-namespace-init.h"

#include <poll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "capabilities.h"
#include "command-exec.h"
#include "helper-exit.h"
#include "landlock-ruleset.h"
#include "seccomp-filter.h"
#include "signal-relay.h"

/* The outer helper holds the pipe's read end: once it is gone, the pipe has no reader. */
static int outer_helper_gone(int report_fd) {
  struct pollfd p = {.fd = report_fd, .events = POLLOUT};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

void run_namespace_init(const struct helper_options *o, int abi, const struct mount_fence *mounts, const sigset_t *mask,
                        int foreground, int report_fd) {
  /* Like bwrap --die-with-parent: the kernel delivers this SIGKILL even to a pid-namespace
   * init, because it comes from outside the namespace. */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (outer_helper_gone(report_fd)) _exit(HELPER_EXIT_NAMESPACE);

  /* Read-only like the /proc it covers (the fence remounted everything read-only);
   * nosuid/nodev/noexec as the host's, which the kernel requires inside a user namespace. */
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) != 0) {
    helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot mount /proc for the agent's pid namespace");
  }
  /* Not ptrace-able by the command, whose uid it shares. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  drop_all_capabilities();
  apply_landlock(o, abi, mounts);
  clear_own_capabilities();
  apply_seccomp_program(&o->seccomp);

  pid_t command = fork();
  if (command < 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot fork the command");
  if (command == 0) exec_command(o, mask, foreground);

  int status = 0;
  /* PARENT_DIED_SIGNAL can only come from the agent here (the init's own parent-death
   * signal is SIGKILL): keep waiting. */
  while (relay_until_exit(command, &status) != 0) {
  }
  ssize_t ignored = write(report_fd, &status, sizeof status);
  (void)ignored;
  _exit(shell_status(status));
}
