/*
 * celistra-exec: runs in the child between fork and exec. It applies the fence to
 * itself (namespaces, mounts, Landlock, no_new_privs) and then execs the command, so
 * the supervising Node process is never restricted. See docs/landlock.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capabilities.h"
#include "helper-exit.h"
#include "helper-options.h"
#include "landlock-abi.h"
#include "landlock-ruleset.h"
#include "mount-fence.h"
#include "network-namespace.h"
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

/*
 * execvp reports EACCES when some PATH entry is unreadable to us even if the command
 * exists nowhere; like a shell, call that "not found" unless a file by that name exists.
 */
static int exec_failure_status(const char *command, int err) {
  if (err == ENOENT || err == ENOTDIR) return HELPER_EXIT_NOT_FOUND;
  if (err != EACCES || strchr(command, '/') != NULL) return HELPER_EXIT_CANNOT_EXECUTE;
  const char *path = getenv("PATH");
  if (path == NULL) path = "/bin:/usr/bin";
  while (*path) {
    const char *end = strchr(path, ':');
    size_t len = end ? (size_t)(end - path) : strlen(path);
    char candidate[PATH_MAX];
    if (len > 0 && (size_t)snprintf(candidate, sizeof candidate, "%.*s/%s", (int)len, path, command) < sizeof candidate &&
        access(candidate, F_OK) == 0) {
      return HELPER_EXIT_CANNOT_EXECUTE;
    }
    path += len + (end ? 1 : 0);
  }
  return HELPER_EXIT_NOT_FOUND;
}

int main(int argc, char **argv) {
  struct helper_options o;
  parse_helper_options(argc, argv, &o);

  /* No descriptor from the supervisor (sockets, other agents' PTYs) reaches the command. */
  syscall(CELISTRA_SYS_close_range, 3U, ~0U, 0U);

  int abi = usable_abi(&o);

  /* Landlock cannot carve a read-only path out of a writable root; only a mount can. */
  if (o.read_only.count > 0 && !o.namespaces) {
    helper_fail(HELPER_EXIT_NAMESPACE, 0, "read-only paths (%s, ...) need --namespaces (user + mount namespaces)", o.read_only.items[0]);
  }

  /* Leave the caller's controlling terminal so TIOCSTI cannot reach the user's shell;
   * under Celistra's PTY we already lead our own session and keep that terminal. */
  if (o.new_session && setsid() < 0 && errno != EPERM) helper_fail(HELPER_EXIT_NAMESPACE, 1, "setsid failed");

  struct mount_fence mounts = {0};
  if (o.namespaces) {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot read the working directory");
    const char *step = "";
    if (enter_user_namespace(CLONE_NEWNS, &step) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot enter a user namespace (%s)", step);
    apply_mount_fence(&o, &mounts);
    /* Owned by our user namespace, so its own status tells a network failure apart. */
    if (o.network_off) {
      if (unshare(CLONE_NEWNET) != 0) helper_fail(HELPER_EXIT_NETWORK, 1, "cannot create a network namespace");
      bring_loopback_up();
    }
    /* The old cwd still points into the pre-bind (now read-only) mount. */
    if (chdir(cwd) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot return to %s", cwd);
  }

  drop_all_capabilities();
  apply_landlock(&o, abi, o.namespaces ? &mounts : NULL);

  execvp(o.command[0], o.command);
  int err = errno;
  int status = exec_failure_status(o.command[0], err);
  errno = status == HELPER_EXIT_NOT_FOUND ? ENOENT : err;
  helper_fail(status, 1, "cannot run %s", o.command[0]);
}
