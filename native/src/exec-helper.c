/*
 * celistra-exec: runs in the child between fork and exec or, for `celistra run` (--spool),
 * in a child of run's process, which becomes its waiter (exec-replace.c, run-waiter.c).
 * It builds the fence (namespaces, mounts, Landlock, no_new_privs) in processes of its own
 * and runs the command inside it, so the supervising Node process is never restricted.
 * This top process, the outer helper, stays in the host's namespaces as the process
 * Celistra sees: it relays signals, ends everything the command started when the command
 * exits, with --spool records the exit (exit-report.c), and exits the same way. Its one
 * child is pid 1 of the agent's namespaces (pid-namespace-init.c), which forks the
 * command; without namespaces the child is the command itself. See docs/landlock.md.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "capabilities.h"
#include "command-exec.h"
#include "exit-report.h"
#include "helper-exit.h"
#include "helper-options.h"
#include "inherited-descriptors.h"
#include "landlock-abi.h"
#include "landlock-ruleset.h"
#include "leftover-processes.h"
#include "pid-namespace-init.h"
#include "run-waiter.h"
#include "sandbox-init.h"
#include "seccomp-filter.h"
#include "signal-relay.h"
#include "start-gate.h"

static int usable_abi(const struct helper_options *o) {
  int kernel = ll_kernel_abi();
  if (kernel <= 0) helper_fail(HELPER_EXIT_LANDLOCK_ABI, 1, "Landlock is not available in this kernel (needs Linux 5.13+ with lsm=landlock)");
  int abi = kernel > CELISTRA_LANDLOCK_ABI_KNOWN ? CELISTRA_LANDLOCK_ABI_KNOWN : kernel;
  if (o->abi_cap > 0 && o->abi_cap < abi) abi = o->abi_cap;
  int required = required_landlock_abi(o);
  if (abi < required) {
    helper_fail(HELPER_EXIT_LANDLOCK_ABI, 0, "this policy needs Landlock ABI %d%s; this kernel offers ABI %d", required,
                o->namespaces ? "" : " without user namespaces", abi);
  }
  return abi;
}

#ifndef CELISTRA_HELPER_LINKAGE
#define CELISTRA_HELPER_LINKAGE "built by hand"
#endif

/* For `celistra doctor`: how build-helper.sh built this binary. musl defines no macro of
 * its own; on Linux, a C library that is not glibc is musl in practice. */
static void describe_build(void) {
#ifdef __GLIBC__
  puts(CELISTRA_HELPER_LINKAGE ", glibc");
#else
  puts(CELISTRA_HELPER_LINKAGE ", musl");
#endif
  exit(0);
}

int main(int argc, char **argv) {
  /* Read first: the later check must not mistake a reaper that adopted us for Celistra. */
  pid_t celistra = getppid();
  if (argc == 3 && strcmp(argv[1], "--wait-for") == 0) wait_for_helper(argv[2]);
  if (argc == 2 && strcmp(argv[1], "--build") == 0) describe_build();
  if (argc >= 3 && strcmp(argv[1], "--sandbox-init") == 0 && strcmp(argv[2], "--") == 0) run_sandbox_init(argv + 3);
  struct helper_options o;
  parse_helper_options(argc, argv, &o);

  /* No descriptor from the supervisor (sockets, other agents' PTYs) reaches the command. */
  close_inherited_descriptors();

  /* Started by `celistra run`, this process stands in for it (exit-report.c). */
  report_failures_of_this_process(&o);
  /* From the start, so a signal sent to the pid Celistra's caller knows is passed on to
   * the command, or acted upon once it exists, instead of ending an unrecorded run. */
  sigset_t inherited_mask;
  block_relayed_signals(&inherited_mask);

  /* Every process of the helper, not only the command: this one never execs, but nothing
   * it could become should gain privileges either; its children inherit it. */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) helper_fail(HELPER_EXIT_RULESET, 1, "cannot set no_new_privs");

  int abi = usable_abi(&o);

  /* Landlock cannot carve a read-only path out of a writable root; only a mount can. */
  if (o.read_only.count > 0 && !o.namespaces) {
    helper_fail(HELPER_EXIT_NAMESPACE, 0, "read-only paths (%s, ...) need --namespaces (user + mount namespaces)", o.read_only.items[0]);
  }

  /* Spawned by Celistra, die with it; if it is already gone, nobody would end the agent:
   * stop here. Started by `celistra run` (--spool), it already dies with the waiter
   * (exec-replace.c asked for SIGKILL), which with namespaces ends the whole sandbox (the
   * init dies with this process). Without namespaces a SIGKILL here would leave what the
   * command started (setsid, double forks) to the host's init: ask for
   * PARENT_DIED_SIGNAL instead and end them first (conformance case 26). */
  if (o.spool == NULL || !o.namespaces) {
    prctl(PR_SET_PDEATHSIG, PARENT_DIED_SIGNAL, 0, 0, 0);
    if (getppid() != celistra) _exit(HELPER_EXIT_NAMESPACE);
  }

  /* Leave the caller's controlling terminal so TIOCSTI cannot reach the user's shell.
   * Spawned by Celistra, this process does it itself, so the command runs in a session
   * the helper leads; under Celistra's PTY it already leads its own session and the
   * command keeps that terminal, which is Celistra's. Started by `celistra run` (--spool),
   * the terminal, if any, is the caller's, and this process stays in the caller's process
   * group beside the waiter, which passes the terminal's ^C on (--signals-via-parent):
   * its child leaves. */
  int leave_session = 0;
  if (o.new_session) {
    if (o.spool != NULL) leave_session = 1;
    else if (getsid(0) != getpid() && setsid() < 0) leave_session = 1;
  }
  /* After setsid() the terminal is no longer the child's: there is no foreground to take. */
  int foreground = leave_session ? 0 : holds_terminal_foreground();

  pid_t child;
  int report = -1;
  start_gate_create();
  if (o.namespaces) {
    child = start_namespace_init(&o, abi, &inherited_mask, foreground, leave_session, &report);
  } else {
    adopt_orphans();
    child = fork();
    if (child < 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot fork");
    if (child == 0) {
      start_gate_join();
      forget_helper_fail_hook();
      /* Dies with the helper even if the helper is SIGKILLed before it can end the tree. */
      prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      if (leave_session && setsid() < 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "setsid failed");
      drop_all_capabilities();
      apply_landlock(&o, abi, NULL);
      apply_seccomp_program(&o.seccomp);
      exec_command(&o, &inherited_mask, foreground);
    }
  }

  /* Spawned by Celistra, this process from here on only relays signals to its own child
   * and waits: as root it keeps no capability the agent could ever reach it for. Started
   * by `celistra run` (--spool) it stands in for that Node process, with its rights, to
   * record the exit in Celistra's state dir. */
  if (o.spool == NULL) clear_own_capabilities();
  start_gate_open();

  int status = 0;
  while (relay_until_exit(child, &status, o.signals_via_parent ? celistra : 0) != 0) {
    /* With --spool and namespaces nothing asked the kernel for PARENT_DIED_SIGNAL: a stray one changes nothing. */
    if (o.spool != NULL && o.namespaces) continue;
    /* Celistra (or, with --spool, its waiter) died: end the agent; nobody is left to read a status. */
    kill(child, SIGKILL);
    if (!o.namespaces) end_leftover_processes();
    _exit(HELPER_EXIT_NAMESPACE);
  }
  if (o.namespaces) {
    /* The init's own status already is the command's, except for death by a signal. */
    int command_status;
    if (read(report, &command_status, sizeof command_status) == (ssize_t)sizeof command_status) status = command_status;
  } else {
    end_leftover_processes();
  }
  if (o.spool != NULL) exit_reporting(&o, status);
  exit_like(status);
}
