#ifndef CELISTRA_NAMESPACE_PROBE_H
#define CELISTRA_NAMESPACE_PROBE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Tries, in a child cloned as the helper clones its init (namespace-clone.h: user, mount,
 * pid and IPC namespaces), what the init then does: the identity map, private
 * propagation, a recursive read-only remount, a tmpfs, a devpts instance and a fresh
 * /proc. Returns 1 when all of it works; 0 with a reason in `why` otherwise. A network
 * namespace is not tried: creating one costs milliseconds, and where it fails the helper
 * still refuses (status 123) rather than run with the network on.
 */
int probe_namespaces(char *why, size_t why_len);

/* 1 when the kernel has seccomp filtering (prctl(PR_GET_SECCOMP) answers). */
int probe_seccomp(void);

#ifdef __cplusplus
}
#endif

#endif
