#ifndef CELISTRA_NAMESPACE_PROBE_H
#define CELISTRA_NAMESPACE_PROBE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Tries, in a forked child, what celistra-exec does with namespaces: a user + mount
 * namespace, private propagation, a recursive read-only remount and a tmpfs. Returns 1
 * when all of it works; 0 with a reason in `why` otherwise. A network namespace is not
 * tried: creating one costs milliseconds on every run, and where it fails the helper
 * still refuses (status 123) rather than run with the network on.
 */
int probe_namespaces(char *why, size_t why_len);

/* 1 when the kernel has seccomp filtering (prctl(PR_GET_SECCOMP) answers). */
int probe_seccomp(void);

#ifdef __cplusplus
}
#endif

#endif
