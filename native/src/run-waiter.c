/*
 * `celistra-exec --wait-for PID`: what `celistra run`'s own process becomes once it has
 * started the helper in a child (exec-replace.c). It keeps the pid the caller waits for:
 * it passes the caller's signals on to the helper, which passes them on to the command,
 * and exits as the helper exits (the command's status, 128+n for signal n). It builds no
 * fence and runs nothing; the helper in its child does all of that.
 *
 * The terminal's signals (^C) reach this process and the helper alike, both being in the
 * caller's process group; the helper, started with --signals-via-parent, passes on only
 * what this process sends it, so the command gets each signal once.
 *
 * It is also a child subreaper: should the helper itself be SIGKILLed, what the command
 * left running without namespaces (setsid, double forks: the helper's own subreaper role
 * ends with it) comes to this process instead of the host's init, and is ended here once
 * the helper is gone (conformance case 26). With namespaces nothing comes: the sandbox's
 * init dies with the helper and the kernel ends the rest.
 */
#define _GNU_SOURCE
#include "run-waiter.h"

#include <errno.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper-exit.h"
#include "inherited-descriptors.h"
#include "leftover-processes.h"
#include "signal-relay.h"

void wait_for_helper(const char *pid_text) {
  char *end;
  errno = 0;
  long pid = strtol(pid_text, &end, 10);
  if (errno != 0 || *end != '\0' || pid <= 0 || (pid_t)pid != pid) helper_fail(HELPER_EXIT_USAGE, 0, "--wait-for needs a pid, not %s", pid_text);
  /* The helper's descriptors are its own; this process keeps only stdio. */
  close_inherited_descriptors();
  /* exec-replace.c kept every signal blocked through the exec: the relayed ones stay
   * blocked (one that came meanwhile is passed on below), the rest (^Z's SIGTSTP, say) act
   * on this process as they would have on `celistra run`. */
  block_only_relayed_signals();
  /* Best effort: without it only a SIGKILL aimed at the helper itself escapes the clean-up. */
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  /* The helper may have ended already, and its SIGCHLD may be gone: the kernel drops
   * signals sent while this process was still in the middle of its exec (killing Node's
   * threads). Reaped here, after the mask is set, any later end raises a SIGCHLD that
   * stays pending. Only a child of this process can be waited for: anything else is a
   * caller's mistake. */
  int status = 0;
  pid_t ended = waitpid((pid_t)pid, &status, WNOHANG);
  if (ended < 0) helper_fail(HELPER_EXIT_USAGE, 1, "--wait-for %ld", pid);
  if (ended != (pid_t)pid) {
    /* Nothing asked the kernel for PARENT_DIED_SIGNAL here: a stray one changes nothing. */
    while (relay_until_exit((pid_t)pid, &status, 0) != 0) {
    }
  }
  end_leftover_processes();
  exit_like(status);
}
