/*
 * A new user namespace (plus the namespaces it owns) with an identity map. The exec
 * helper creates its namespaces with clone3(2) and writes the map from inside
 * (pid-namespace-init.c); the addon's probe enters them with unshare(2) and the same map,
 * which the kernel permits under the same conditions.
 */
#ifndef CELISTRA_USER_NAMESPACE_H
#define CELISTRA_USER_NAMESPACE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * unshare(CLONE_NEWUSER | extra_flags) and map our own uid and gid to themselves.
 * A process may only write a single self-mapping into its own new namespace (a wider
 * map needs CAP_SETUID in the parent namespace, which it no longer has), so root keeps
 * uid 0 but other users' files show as the overflow id and root's DAC override stops
 * at them: a tightening, documented in docs/landlock.md. On failure returns -1 with
 * errno set and `step` naming the failing step.
 */
int enter_user_namespace(int extra_clone_flags, const char **step);

/*
 * From inside a new user namespace: deny setgroups and map `uid`/`gid` (the creator's
 * effective ids, read before the namespace existed: inside, unmapped, they read as the
 * overflow id) to themselves. Returns -1 with errno set and `step` naming the failing step.
 */
int write_identity_map(uid_t uid, gid_t gid, const char **step);

#endif
