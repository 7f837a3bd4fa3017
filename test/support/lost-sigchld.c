/*
 * Execs `celistra-exec --wait-for CHILD` (argv[1] is the helper) with CHILD already ended
 * and its SIGCHLD already taken: what the waiter meets when the helper ends while
 * `celistra run`'s process is still in its exec, where the kernel drops signals
 * (native/src/run-waiter.c). The waiter must still reap CHILD and exit with its status, 7.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) return 64;
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  pid_t child = fork();
  if (child == 0) _exit(7);
  siginfo_t info;
  sigwaitinfo(&chld, &info); /* the SIGCHLD is gone; the child stays a zombie */
  char pid[16];
  snprintf(pid, sizeof pid, "%d", (int)child);
  execl(argv[1], argv[1], "--wait-for", pid, (char *)NULL);
  return 127;
}
