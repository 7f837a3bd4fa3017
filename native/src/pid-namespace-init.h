/*
 * pid 1 of the agent's pid namespace (with --namespaces). Created by the outer helper
 * with clone3(2) together with the agent's user, mount and IPC namespaces, it builds the
 * fence from inside them (identity map, mounts, network namespace), mounts a /proc that
 * shows only the agent's processes, fences itself like the command (it lives among them),
 * forks the command, relays signals to it, reaps orphans, and exits with the command's
 * status when the command exits: the kernel then kills whatever is left in the namespace,
 * so nothing the agent started (double forks, setsid, nohup) outlives it. The outer
 * helper itself stays in the host's namespaces.
 */
#ifndef CELISTRA_PID_NAMESPACE_INIT_H
#define CELISTRA_PID_NAMESPACE_INIT_H

#include <signal.h>
#include <sys/types.h>

#include "helper-options.h"

/*
 * Creates the namespaces and their init, which never returns; returns the init's pid in
 * the outer helper (helper_fail there when it cannot). `mask` is the signal mask the
 * command gets; `leave_session`: the init calls setsid() first. *report_fd receives the
 * read end of a pipe that carries the command's raw wait status, so the outer helper can
 * die by the same signal (pid 1 cannot raise one on itself).
 */
pid_t start_namespace_init(const struct helper_options *o, int abi, const sigset_t *mask, int foreground, int leave_session,
                           int *report_fd);

#endif
