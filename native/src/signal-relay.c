#define _GNU_SOURCE
#include "signal-relay.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper-exit.h"
#include "relayed-signals.h"

static const int relayed[] = {RELAYED_SIGNALS};

static void relayed_set(sigset_t *set) {
  sigemptyset(set);
  for (size_t i = 0; i < sizeof relayed / sizeof relayed[0]; i++) sigaddset(set, relayed[i]);
  sigaddset(set, SIGCHLD);
  sigaddset(set, PARENT_DIED_SIGNAL);
}

void block_relayed_signals(sigset_t *previous) {
  sigset_t set;
  relayed_set(&set);
  if (sigprocmask(SIG_BLOCK, &set, previous) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot block signals");
}

void block_only_relayed_signals(void) {
  sigset_t set;
  relayed_set(&set);
  if (sigprocmask(SIG_SETMASK, &set, NULL) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot block signals");
}

/* Returns 1 once `child` has been reaped (its status in *status). */
static int reap_children(pid_t child, int *status) {
  int done = 0;
  for (;;) {
    int st;
    pid_t pid = waitpid(-1, &st, WNOHANG);
    if (pid <= 0) return done;
    if (pid == child) {
      *status = st;
      done = 1;
    }
  }
}

int relay_until_exit(pid_t child, int *status, pid_t only_from) {
  sigset_t set;
  relayed_set(&set);
  /* A child that exited before we got here left a pending SIGCHLD: nothing is lost. */
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      helper_fail(HELPER_EXIT_NAMESPACE, 1, "sigwaitinfo failed");
    }
    if (sig == SIGCHLD) {
      if (reap_children(child, status)) return 0;
    } else if (sig == PARENT_DIED_SIGNAL) {
      return -1;
    } else if (only_from <= 0 || (info.si_code == SI_USER && info.si_pid == only_from)) {
      kill(child, sig);
      /* A stopped process keeps even a fatal signal pending until it runs again: a command
       * that stopped itself (SIGSTOP, with nobody to continue it) would outlast every request
       * to end it. Continue it, as a shell's kill does for a stopped job. */
      if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) kill(child, SIGCONT);
    }
  }
}

int shell_status(int wait_status) {
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return WEXITSTATUS(wait_status);
}

void exit_like(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    /* The command may have dumped core; the helper itself must not (its cwd is the workspace). */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    signal(sig, SIG_DFL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, sig);
    sigprocmask(SIG_UNBLOCK, &only, NULL);
    raise(sig);
  }
  _exit(shell_status(wait_status));
}
