#define _GNU_SOURCE
#include "leftover-processes.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper-exit.h"

static void children_path(char *out, size_t size) {
  /* The helper is single-threaded: its children all hang off its main thread. */
  snprintf(out, size, "/proc/self/task/%d/children", (int)getpid());
}

void adopt_orphans(void) {
  char path[64];
  children_path(path, sizeof path);
  if (access(path, R_OK) != 0) {
    helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot list the helper's children (%s; the kernel needs CONFIG_PROC_CHILDREN), so processes the agent leaves behind could not be ended", path);
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot become a child subreaper");
}

/* Kill every current child; returns how many were listed. */
static int kill_children(void) {
  char path[64];
  children_path(path, sizeof path);
  FILE *f = fopen(path, "re");
  if (f == NULL) return 0;
  int n = 0;
  int pid;
  while (fscanf(f, "%d", &pid) == 1) {
    kill(pid, SIGKILL);
    n++;
  }
  fclose(f);
  return n;
}

void end_leftover_processes(void) {
  /* Killing a child reparents its own children to us; repeat until none is left. Each
   * round reaps at least one process, so a forking tree cannot keep this going for ever
   * faster than SIGKILL ends it. */
  for (;;) {
    kill_children();
    pid_t pid = waitpid(-1, NULL, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) return;
      helper_fail(HELPER_EXIT_NAMESPACE, 1, "waiting for leftover processes failed");
    }
  }
}
