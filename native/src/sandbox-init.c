#define _GNU_SOURCE
#include "sandbox-init.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Exit statuses as a shell gives them: the command's, 128+n for signal n, 127 when it
 * could not be started (pid 1 cannot die by a signal it raises itself). */
static int shell_status_of(int st) {
  return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

void run_sandbox_init(char **argv) {
  if (argv[0] == NULL) {
    fputs("celistra-exec: --sandbox-init needs a command\n", stderr);
    _exit(127);
  }
  /* Before the command exists: not dumpable, so a process of the same uid without
   * CAP_SYS_PTRACE (the command: bwrap drops every capability) can neither ptrace this
   * process nor open its /proc/1/mem. The command's own exec makes it dumpable again. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    fprintf(stderr, "celistra-exec: --sandbox-init cannot make itself not dumpable: %s\n", strerror(errno));
    _exit(127);
  }
  sigset_t chld, previous;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &previous);
  pid_t command = fork();
  if (command < 0) {
    fprintf(stderr, "celistra-exec: --sandbox-init cannot fork: %s\n", strerror(errno));
    _exit(127);
  }
  if (command == 0) {
    sigprocmask(SIG_SETMASK, &previous, NULL);
    execvp(argv[0], argv);
    fprintf(stderr, "celistra-exec: %s: %s\n", argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  for (;;) {
    int st;
    pid_t pid = waitpid(-1, &st, 0);
    if (pid == command) _exit(shell_status_of(st));
    if (pid < 0 && errno != EINTR) _exit(127);
  }
}
