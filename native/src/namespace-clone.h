/*
 * The one way Celistra creates the agent's namespaces, shared by the exec helper
 * (pid-namespace-init.c) and the addon's probe (namespace-probe.c), so that the probe
 * tries exactly what a run will do.
 */
#ifndef CELISTRA_NAMESPACE_CLONE_H
#define CELISTRA_NAMESPACE_CLONE_H

#include <stdint.h>
#include <sys/types.h>

/* What every fenced command gets: user, mount, pid and IPC namespaces. A private IPC
 * namespace keeps SysV shared memory, semaphores and message queues of the host and of
 * other agents out of reach (Landlock does not cover them). */
#define AGENT_NAMESPACES (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC)

/*
 * fork(2) into new namespaces: clone3(2) with `flags`, or clone(2) where a seccomp profile
 * answers clone3 with ENOSYS (Docker's does, so that callers fall back). Returns 0 in the
 * child, its pid in the parent, -1 with errno set on failure.
 */
pid_t clone_into_namespaces(uint64_t flags);

#endif
