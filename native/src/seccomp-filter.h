/*
 * The seccomp filter Celistra builds (src/backends/seccomp/unix-socket-filter.ts: it
 * refuses unix sockets, which Landlock below ABI 9 cannot restrict by path), handed to
 * the helper as hex on its command line so the filter has one source for both Linux
 * backends.
 */
#ifndef CELISTRA_SECCOMP_FILTER_H
#define CELISTRA_SECCOMP_FILTER_H

#include <stddef.h>

struct seccomp_program {
  unsigned char *bytes; /* struct sock_filter entries, 8 bytes each */
  size_t length;        /* in bytes; 0 when no filter was given */
};

/* Decodes `hex` into `out`; exits with HELPER_EXIT_USAGE when it is not a whole program. */
void parse_seccomp_program(const char *hex, struct seccomp_program *out);

/* Installs the program for this process and what it execs (no_new_privs must be set);
 * exits with HELPER_EXIT_RULESET when the kernel refuses it. No-op without a program. */
void apply_seccomp_program(const struct seccomp_program *program);

#endif
