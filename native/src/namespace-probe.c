#define _GNU_SOURCE
#include "namespace-probe.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mount-api.h"
#include "user-namespace.h"

struct probe_failure {
  int err;
  char step[64];
};

/* Runs in the forked child of a multi-threaded process: plain syscalls only. */
static void probe_child(int report_fd) {
  struct probe_failure f;
  memset(&f, 0, sizeof f);
  const char *step = "";
  if (enter_user_namespace(CLONE_NEWNS, &step) != 0) {
  } else if ((step = "make mounts private", mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) != 0) {
  } else if ((step = "remount / read-only", ma_set_readonly("/", 1, 1)) != 0) {
  } else if ((step = "mount a tmpfs", mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")) != 0) {
  } else {
    _exit(0);
  }
  f.err = errno;
  strncpy(f.step, step, sizeof f.step - 1);
  ssize_t ignored = write(report_fd, &f, sizeof f);
  (void)ignored;
  _exit(1);
}

int probe_namespaces(char *why, size_t why_len) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    snprintf(why, why_len, "pipe: %s", strerror(errno));
    return 0;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(why, why_len, "fork: %s", strerror(errno));
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return 0;
  }
  if (pid == 0) {
    close(pipe_fds[0]);
    probe_child(pipe_fds[1]);
  }
  close(pipe_fds[1]);
  struct probe_failure f;
  memset(&f, 0, sizeof f);
  ssize_t got = read(pipe_fds[0], &f, sizeof f);
  close(pipe_fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 1;
  if (got == (ssize_t)sizeof f) snprintf(why, why_len, "%s: %s", f.step, strerror(f.err));
  else snprintf(why, why_len, "the probe child died (status %d)", status);
  return 0;
}

int probe_seccomp(void) {
  return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
}
