/*
 * The identity map of a new user namespace, written from inside by the helper's init
 * (pid-namespace-init.c) and by the addon's probe (namespace-probe.c), which create the
 * namespace the same way (namespace-clone.h).
 */
#ifndef CELISTRA_USER_NAMESPACE_H
#define CELISTRA_USER_NAMESPACE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * From inside a new user namespace: deny setgroups and map `uid`/`gid` (the creator's
 * effective ids, read before the namespace existed: inside, unmapped, they read as the
 * overflow id) to themselves. A process may only write a single self-mapping into its own
 * new namespace (a wider map needs CAP_SETUID in the parent namespace), so root keeps
 * uid 0 but other users' files show as the overflow id and root's DAC override stops at
 * them: a tightening, documented in docs/landlock.md. Returns -1 with errno set and
 * `step` naming the failing step.
 */
int write_identity_map(uid_t uid, gid_t gid, const char **step);

#endif
