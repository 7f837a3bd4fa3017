/*
 * `celistra run` with piped output ends by handing its process over to celistra-exec
 * instead of spawning it and waiting in Node: no Node process beside every fenced command
 * and no Node teardown at the end.
 *
 * The helper starts in a child made with vfork(2), which shares Node's memory until it
 * execs and so leaves nothing of Node to tear down. Only then does this process exec, into
 * celistra-exec's waiter mode (run-waiter.c): it keeps the pid `celistra run`'s caller
 * waits for, passes signals on to the helper and exits as the helper does. Freeing Node's
 * memory at that exec is the slow part of any exec from Node (~0.1 ms per MB on the VMs we
 * measure, ~5 ms in all, docs/benchmarks/run.md); it now runs on one core while the helper
 * builds the fence and runs the command on the other, instead of before them.
 *
 * What a spawn would reset for a child is reset for the helper: Node ignores SIGPIPE and
 * may block signals, and ignored dispositions and the mask survive execve.
 *
 * A signal sent to this process during the hand-over must reach the waiter, not end the
 * run. Blocking it in this thread is not enough: Node's other threads do not block it
 * until the exec has ended them, and a signal left at its default action that one of them
 * takes kills the whole process (the helper then dies of its parent-death signal, and the
 * run ends unrecorded). So the relayed signals get a handler that only queues the signal
 * again on this thread, where it stays blocked and pending through the exec, for the
 * waiter to take.
 */
#define _GNU_SOURCE
#include "exec-replace.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relayed-signals.h"

static void default_dispositions(void) {
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, SIG_DFL); /* fails harmlessly for the signals glibc reserves */
  }
}

/* Node marks its stdio close-on-exec and may have made it non-blocking; the command needs
 * them open and blocking, as a spawn would have given them. */
static void plain_stdio(void) {
  for (int fd = 0; fd <= 2; fd++) {
    int fd_flags = fcntl(fd, F_GETFD);
    if (fd_flags >= 0 && (fd_flags & FD_CLOEXEC)) fcntl(fd, F_SETFD, fd_flags & ~FD_CLOEXEC);
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  }
}

static const int relayed[] = {RELAYED_SIGNALS};
#define RELAYED_COUNT (sizeof relayed / sizeof relayed[0])

static pid_t handing_over; /* this process's pid, also its main thread's id */

/* Runs in whichever Node thread the kernel picked: hand the signal to the main thread. */
static void keep_for_waiter(int sig) {
  int saved = errno;
  syscall(SYS_tgkill, handing_over, handing_over, sig);
  errno = saved;
}

static void keep_relayed_signals(struct sigaction previous[RELAYED_COUNT]) {
  struct sigaction keep = {.sa_handler = keep_for_waiter, .sa_flags = SA_RESTART};
  sigfillset(&keep.sa_mask);
  for (size_t i = 0; i < RELAYED_COUNT; i++) sigaction(relayed[i], &keep, &previous[i]);
}

static void restore_relayed_signals(const struct sigaction previous[RELAYED_COUNT]) {
  for (size_t i = 0; i < RELAYED_COUNT; i++) sigaction(relayed[i], &previous[i], NULL);
}

/* Only for tests (run-exec.test.ts): a pause between starting the helper and this
 * process's exec, the window the handlers above cover, so a test can hit it every time. */
static unsigned test_pause_ms(void) {
  const char *v = getenv("CELISTRA_TEST_HANDOVER_PAUSE_MS");
  return v ? (unsigned)strtoul(v, NULL, 10) : 0;
}

int replace_with_helper(const char *file, char *const argv[], char *const envp[], const char *cwd) {
  /* Everything blocked across vfork: no Node (libuv) handler may run in the child. */
  sigset_t all, before;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &before);
  pid_t self = getpid();
  handing_over = self;
  struct sigaction previous[RELAYED_COUNT];
  keep_relayed_signals(previous);
  volatile int child_errno = 0; /* shared with the vfork child */
  pid_t helper = vfork();
  if (helper == 0) {
    /* Only async-signal-safe calls until execve: this runs on Node's stack. */
    default_dispositions();
    /* Dies with the waiter, as the helper died with Node's process when it was that
     * process: SIGKILLing the pid the caller knows still ends the whole run. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != self) _exit(127);
    if (chdir(cwd) != 0) {
      child_errno = errno;
      _exit(127);
    }
    plain_stdio();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(file, argv, envp);
    child_errno = errno;
    _exit(127);
  }
  if (helper < 0 || child_errno != 0) {
    int err = helper < 0 ? errno : child_errno;
    if (helper > 0) waitpid(helper, NULL, 0);
    restore_relayed_signals(previous);
    sigprocmask(SIG_SETMASK, &before, NULL);
    errno = err;
    return -1;
  }

  unsigned pause_ms = test_pause_ms();
  if (pause_ms > 0) usleep(pause_ms * 1000);
  /* The helper runs. This process becomes its waiter; signals stay blocked through the
   * exec, so one sent meanwhile waits for the waiter instead of ending this process. The
   * exec resets Node's handlers; stdio stays open for the waiter's own messages. */
  plain_stdio();
  char pid_text[16];
  snprintf(pid_text, sizeof pid_text, "%d", (int)helper);
  char *const waiter_argv[] = {(char *)file, (char *)"--wait-for", pid_text, NULL};
  execve(file, waiter_argv, envp);
  /* Cannot happen short of the binary vanishing between two execs: end the helper rather
   * than leave it running with nobody to wait for it. */
  int err = errno;
  kill(helper, SIGKILL);
  waitpid(helper, NULL, 0);
  restore_relayed_signals(previous);
  sigprocmask(SIG_SETMASK, &before, NULL);
  errno = err;
  return -1;
}
