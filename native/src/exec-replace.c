/*
 * `celistra run` with piped output ends by turning its own process into celistra-exec
 * instead of spawning it and waiting: no fork of Node, no Node process beside every fenced
 * command, no teardown of Node at the end. The helper then reports the exit itself
 * (exit-report.c). What a spawn would reset for the child is reset here: Node ignores
 * SIGPIPE and may block signals, and ignored dispositions and the mask survive execve.
 */
#define _GNU_SOURCE
#include "exec-replace.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

int exec_replacing(const char *file, char *const argv[], char *const envp[], const char *cwd) {
  if (chdir(cwd) != 0) return -1;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, SIG_DFL); /* fails harmlessly for the signals glibc reserves */
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* Node marks its stdio close-on-exec and may have made it non-blocking; the command
   * needs them open and blocking, as a spawn would have given them. */
  for (int fd = 0; fd <= 2; fd++) {
    int fd_flags = fcntl(fd, F_GETFD);
    if (fd_flags >= 0 && (fd_flags & FD_CLOEXEC)) fcntl(fd, F_SETFD, fd_flags & ~FD_CLOEXEC);
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  }
  return execve(file, argv, envp);
}
