/*
 * pid 1 of the agent's pid namespace (with --namespaces). It mounts a /proc that shows
 * only the agent's processes, fences itself like the command (it lives among them), forks
 * the command, relays signals to it, reaps orphans, and exits with the command's status
 * when the command exits: the kernel then kills whatever is left in the namespace, so
 * nothing the agent started (double forks, setsid, nohup) outlives it.
 */
#ifndef CELISTRA_PID_NAMESPACE_INIT_H
#define CELISTRA_PID_NAMESPACE_INIT_H

#include <signal.h>

#include "helper-options.h"
#include "mount-fence.h"

/*
 * Runs in the first child forked after unshare(CLONE_NEWPID). `report_fd` is the write
 * end of a pipe to the outer helper: the command's raw wait status goes there, so the
 * outer helper can die by the same signal (pid 1 cannot raise one on itself).
 */
void run_namespace_init(const struct helper_options *o, int abi, const struct mount_fence *mounts, const sigset_t *mask,
                        int foreground, int report_fd) __attribute__((noreturn));

#endif
