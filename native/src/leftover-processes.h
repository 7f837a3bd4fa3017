/*
 * Without user namespaces there is no pid namespace to tear down. The outer helper
 * becomes a child subreaper instead: whatever the command leaves behind (double forks,
 * setsid, nohup) is reparented to the helper rather than to the host's init, so the
 * helper can find it through /proc/self/task/<tid>/children and kill it when the command
 * exits or Celistra dies.
 */
#ifndef CELISTRA_LEFTOVER_PROCESSES_H
#define CELISTRA_LEFTOVER_PROCESSES_H

/* Become a subreaper; refuse (HELPER_EXIT_NAMESPACE) when the kernel cannot list children. */
void adopt_orphans(void);

/* SIGKILL every descendant and reap them all; returns when the helper has no child left. */
void end_leftover_processes(void);

#endif
