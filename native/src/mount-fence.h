/*
 * The mount-namespace half of the fence (used when user namespaces work): everything
 * read-only except the writable roots, read-only carve-outs inside them, denied paths
 * masked, a private /tmp, /dev/shm and /dev/pts. Must run inside a fresh user + mount namespace.
 */
#ifndef CELISTRA_MOUNT_FENCE_H
#define CELISTRA_MOUNT_FENCE_H

#include "helper-options.h"

struct mount_fence {
  int private_tmp; /* an empty tmpfs now sits on /tmp */
  int private_shm; /* an empty tmpfs now sits on /dev/shm */
  int private_pts; /* a new devpts instance sits on /dev/pts: other terminals are absent */
};

/* Exits with HELPER_EXIT_NAMESPACE on any failure: a half-built fence never runs. */
void apply_mount_fence(const struct helper_options *o, struct mount_fence *out);

/* The private /tmp applies unless a writable root is /tmp, lies under it, or holds it. */
int wants_private_tmp(const struct helper_options *o);

#endif
