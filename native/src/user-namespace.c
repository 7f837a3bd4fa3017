#define _GNU_SOURCE
#include "user-namespace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_proc_file(const char *path, const char *content) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = strlen(content);
  ssize_t n = write(fd, content, len);
  int saved = errno;
  close(fd);
  errno = saved;
  return n == (ssize_t)len ? 0 : -1;
}

int write_identity_map(uid_t uid, gid_t gid, const char **step) {
  char uid_map[64];
  char gid_map[64];
  snprintf(uid_map, sizeof uid_map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
  snprintf(gid_map, sizeof gid_map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
  /* The kernel accepts a self-written gid map only once setgroups is denied. */
  *step = "write /proc/self/setgroups";
  if (write_proc_file("/proc/self/setgroups", "deny") != 0) return -1;
  *step = "write /proc/self/uid_map";
  if (write_proc_file("/proc/self/uid_map", uid_map) != 0) return -1;
  *step = "write /proc/self/gid_map";
  if (write_proc_file("/proc/self/gid_map", gid_map) != 0) return -1;
  return 0;
}
