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
 */
#define _GNU_SOURCE
#include "exec-replace.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

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

int replace_with_helper(const char *file, char *const argv[], char *const envp[], const char *cwd) {
  /* Everything blocked across vfork: no Node (libuv) handler may run in the child. */
  sigset_t all, before;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &before);
  pid_t self = getpid();
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
    sigprocmask(SIG_SETMASK, &before, NULL);
    errno = err;
    return -1;
  }

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
  sigprocmask(SIG_SETMASK, &before, NULL);
  errno = err;
  return -1;
}
