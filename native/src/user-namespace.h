/*
 * Entering a new user namespace (plus the namespaces it owns) with an identity map,
 * shared by the exec helper and the addon's probe so the probe tests exactly what
 * the helper will do.
 */
#ifndef CELISTRA_USER_NAMESPACE_H
#define CELISTRA_USER_NAMESPACE_H

#include <stddef.h>

/*
 * unshare(CLONE_NEWUSER | extra_flags) and map our own uid and gid to themselves.
 * A process may only write a single self-mapping into its own new namespace (a wider
 * map needs CAP_SETUID in the parent namespace, which it no longer has), so root keeps
 * uid 0 but other users' files show as the overflow id and root's DAC override stops
 * at them: a tightening, documented in docs/landlock.md. On failure returns -1 with
 * errno set and `step` naming the failing step.
 */
int enter_user_namespace(int extra_clone_flags, const char **step);

#endif
