/*
 * celistra-exec: runs in the child between fork and exec. It builds the fence
 * (namespaces, mounts, Landlock, no_new_privs) in processes of its own and runs the
 * command inside it, so the supervising Node process is never restricted; it stays as
 * the process Celistra sees, ends everything the command started when the command exits,
 * and exits the same way. See docs/landlock.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capabilities.h"
#include "command-exec.h"
#include "exit-report.h"
#include "helper-exit.h"
#include "helper-options.h"
#include "landlock-abi.h"
#include "landlock-ruleset.h"
#include "leftover-processes.h"
#include "mount-fence.h"
#include "network-namespace.h"
#include "pid-namespace-init.h"
#include "seccomp-filter.h"
#include "signal-relay.h"
#include "user-namespace.h"

#define CELISTRA_SYS_close_range 436

static int usable_abi(const struct helper_options *o) {
  int kernel = ll_kernel_abi();
  if (kernel <= 0) helper_fail(HELPER_EXIT_LANDLOCK_ABI, 1, "Landlock is not available in this kernel (needs Linux 5.13+ with lsm=landlock)");
  int abi = kernel > CELISTRA_LANDLOCK_ABI_KNOWN ? CELISTRA_LANDLOCK_ABI_KNOWN : kernel;
  if (o->abi_cap > 0 && o->abi_cap < abi) abi = o->abi_cap;
  int required = required_landlock_abi(o);
  if (abi < required) {
    helper_fail(HELPER_EXIT_LANDLOCK_ABI, 0, "this policy needs Landlock ABI %d%s; this kernel offers ABI %d", required,
                o->namespaces ? "" : " without user namespaces", abi);
  }
  return abi;
}

int main(int argc, char **argv) {
  struct helper_options o;
  parse_helper_options(argc, argv, &o);

  /* No descriptor from the supervisor (sockets, other agents' PTYs) reaches the command. */
  syscall(CELISTRA_SYS_close_range, 3U, ~0U, 0U);

  /* After `celistra run` exec'd into us: from here on we are its child (exit-report.c). */
  report_exit_when_done(&o);

  /* Every process of the helper, not only the command: the outer helper never execs,
   * but nothing it could become should gain privileges either. */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) helper_fail(HELPER_EXIT_RULESET, 1, "cannot set no_new_privs");

  int abi = usable_abi(&o);

  /* Landlock cannot carve a read-only path out of a writable root; only a mount can. */
  if (o.read_only.count > 0 && !o.namespaces) {
    helper_fail(HELPER_EXIT_NAMESPACE, 0, "read-only paths (%s, ...) need --namespaces (user + mount namespaces)", o.read_only.items[0]);
  }

  /* Leave the caller's controlling terminal so TIOCSTI cannot reach the user's shell;
   * under Celistra's PTY we already lead our own session and keep that terminal. */
  if (o.new_session && setsid() < 0 && errno != EPERM) helper_fail(HELPER_EXIT_NAMESPACE, 1, "setsid failed");

  pid_t celistra = getppid();
  struct mount_fence mounts = {0};
  if (o.namespaces) {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot read the working directory");
    const char *step = "";
    /* The pid namespace takes effect for our first child, which becomes its init. A
     * private IPC namespace keeps SysV shared memory, semaphores and message queues of
     * the host and of other agents out of reach (Landlock does not cover them). */
    if (enter_user_namespace(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC, &step) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot enter a user namespace (%s)", step);
    apply_mount_fence(&o, &mounts);
    /* Owned by our user namespace, so its own status tells a network failure apart. */
    if (o.network_off) {
      if (unshare(CLONE_NEWNET) != 0) helper_fail(HELPER_EXIT_NETWORK, 1, "cannot create a network namespace");
      bring_loopback_up();
    }
    /* The old cwd still points into the pre-bind (now read-only) mount. */
    if (chdir(cwd) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot return to %s", cwd);
  } else {
    adopt_orphans();
  }

  /* Set after the user namespace: a change of credentials clears it. If Celistra is
   * already gone, nobody would end the agent: stop here. */
  prctl(PR_SET_PDEATHSIG, PARENT_DIED_SIGNAL, 0, 0, 0);
  if (getppid() != celistra) _exit(HELPER_EXIT_NAMESPACE);

  sigset_t inherited_mask;
  block_relayed_signals(&inherited_mask);
  int foreground = holds_terminal_foreground();
  int report[2] = {-1, -1};
  if (o.namespaces && pipe2(report, O_CLOEXEC) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot create a pipe");

  pid_t child = fork();
  if (child < 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot fork");
  if (child == 0) {
    if (o.namespaces) {
      close(report[0]);
      run_namespace_init(&o, abi, &mounts, &inherited_mask, foreground, report[1]);
    }
    /* Dies with the helper even if the helper is SIGKILLed before it can end the tree. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    drop_all_capabilities();
    apply_landlock(&o, abi, NULL);
    apply_seccomp_program(&o.seccomp);
    exec_command(&o, &inherited_mask, foreground);
  }
  if (o.namespaces) close(report[1]);

  int status = 0;
  if (relay_until_exit(child, &status) != 0) {
    /* Celistra died: end the agent; nobody is left to read a status. */
    kill(child, SIGKILL);
    if (!o.namespaces) end_leftover_processes();
    _exit(HELPER_EXIT_NAMESPACE);
  }
  if (o.namespaces) {
    /* The init's own status already is the command's, except for death by a signal. */
    int command_status;
    if (read(report[0], &command_status, sizeof command_status) == (ssize_t)sizeof command_status) status = command_status;
  } else {
    end_leftover_processes();
  }
  exit_like(status);
}
