/*
 * The policy as celistra-exec receives it on its command line (built by
 * src/backends/landlock/helper-args.ts):
 *
 *   celistra-exec [--namespaces] [--net on|off] [--new-session] [--abi-cap N]
 *                 [--write DIR]... [--tmp DIR] [--read-only PATH]... [--deny-read PATH]...
 *                 [--keep-tmp /tmp/NAME]... [--seccomp-filter HEX]
 *                 [--spool FILE --audit-agent-json JSON --started-ms MS [--remove-tmp] [--probe-cache FILE]]
 *                 [--signals-via-parent]
 *                 -- COMMAND [ARGS...]
 *   celistra-exec --wait-for PID      (what `celistra run` becomes: run-waiter.c)
 *
 * Every path is absolute and already realpath'd by the Policy builder.
 */
#ifndef CELISTRA_HELPER_OPTIONS_H
#define CELISTRA_HELPER_OPTIONS_H

#include "seccomp-filter.h"

struct path_list {
  const char **items;
  int count;
};

struct helper_options {
  struct path_list write;     /* workspace and extra writable roots */
  const char *tmp;            /* the private temp dir (writable), or NULL */
  struct path_list read_only; /* carve-outs inside writable roots */
  struct path_list deny_read;
  struct path_list keep_tmp;  /* top-level /tmp/<x> entries shown read-only in the private /tmp */
  struct seccomp_program seccomp; /* installed last, just before the command runs */
  /* Set when `celistra run` exec'd into the helper (exit-report.c): */
  const char *spool;            /* its audit spool file, for the exit event */
  const char *audit_agent_json; /* the agent's name as a JSON string, rendered by Celistra */
  long long started_ms;         /* when the run started (ms since the epoch) */
  int remove_tmp;               /* remove --tmp when the command has ended */
  const char *probe_cache;      /* dropped when the fence cannot be built (src/backends/landlock/probe-cache.ts) */
  int network_off;
  int namespaces;  /* use user + mount (+ net) namespaces */
  int new_session; /* setsid(): leave the caller's controlling terminal */
  int signals_via_parent; /* pass on only the signals the parent sends (a run's waiter, run-waiter.c) */
  int abi_cap;     /* 0, or the highest ABI to use (tests force degraded kernels) */
  char **command;
};

/* Parses argv; on bad input exits with HELPER_EXIT_USAGE and a message. */
void parse_helper_options(int argc, char **argv, struct helper_options *out);

/* True when `inner` is `outer` or lies beneath it (both absolute, normalised). */
int path_within(const char *inner, const char *outer);

#endif
