#define _GNU_SOURCE
#include "namespace-probe.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mount-api.h"
#include "namespace-clone.h"
#include "user-namespace.h"

struct probe_failure {
  int err;
  char step[64];
};

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * pid 1 of fresh namespaces, as the helper's init: the identity map, then the mounts
 * most likely to be refused. A nested sandbox or a container commonly allows user
 * namespaces but not a fresh /proc (the kernel refuses one while the existing /proc has
 * files hidden under mounts, as Docker's masked paths are). Runs in a child of a
 * multi-threaded process: plain syscalls only.
 */
static void probe_child(uid_t uid, gid_t gid, int report_fd) {
  struct probe_failure f;
  memset(&f, 0, sizeof f);
  const char *step = "";
  if (write_identity_map(uid, gid, &step) != 0) {
  } else if ((step = "make mounts private", mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) != 0) {
  } else if ((step = "remount / read-only", ma_set_readonly("/", 1, 1)) != 0) {
  } else if ((step = "mount a tmpfs", mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")) != 0) {
  } else if ((step = "mount a devpts instance", is_dir("/dev/pts") && mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620")) != 0) {
  } else if ((step = "mount /proc", mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL)) != 0) {
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
  uid_t uid = geteuid();
  gid_t gid = getegid();
  pid_t pid = clone_into_namespaces(AGENT_NAMESPACES);
  if (pid < 0) {
    snprintf(why, why_len, "clone into new user, mount, pid and IPC namespaces: %s", strerror(errno));
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return 0;
  }
  if (pid == 0) {
    close(pipe_fds[0]);
    probe_child(uid, gid, pipe_fds[1]);
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
