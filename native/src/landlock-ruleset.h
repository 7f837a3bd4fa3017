/*
 * The Landlock half of the fence: read and execute everywhere but the device nodes under
 * /dev (and read-denied paths when no mount namespace hides them), full rights on the
 * writable roots, the few device files every program needs, TCP off when asked and no
 * network namespace does it, signal and abstract-unix scoping from ABI 6.
 */
#ifndef CELISTRA_LANDLOCK_RULESET_H
#define CELISTRA_LANDLOCK_RULESET_H

#include "helper-options.h"
#include "mount-fence.h"

/* The lowest ABI that can hold these options (see docs/landlock.md). */
int required_landlock_abi(const struct helper_options *o);

/*
 * Builds the ruleset for `abi`, sets no_new_privs and restricts this thread (and every
 * process it execs). Exits with HELPER_EXIT_RULESET on any failure.
 */
void apply_landlock(const struct helper_options *o, int abi, const struct mount_fence *mounts);

#endif
