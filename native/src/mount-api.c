#define _GNU_SOURCE
#include "mount-api.h"

#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int ma_set_readonly(const char *path, int readonly, int recursive) {
  struct ma_mount_attr attr;
  memset(&attr, 0, sizeof attr);
  if (readonly) attr.attr_set = MA_MOUNT_ATTR_RDONLY;
  else attr.attr_clr = MA_MOUNT_ATTR_RDONLY;
  return (int)syscall(CELISTRA_SYS_mount_setattr, AT_FDCWD, path, recursive ? MA_AT_RECURSIVE : 0, &attr, sizeof attr);
}

int ma_clone_tree(const char *path) {
  return (int)syscall(CELISTRA_SYS_open_tree, AT_FDCWD, path, MA_OPEN_TREE_CLONE | O_CLOEXEC | MA_AT_RECURSIVE);
}

int ma_clone_at(int dirfd, const char *name) {
  return (int)syscall(CELISTRA_SYS_open_tree, dirfd, name, MA_OPEN_TREE_CLONE | O_CLOEXEC);
}

int ma_attach(int mount_fd, const char *target) {
  return (int)syscall(CELISTRA_SYS_move_mount, mount_fd, "", AT_FDCWD, target, MA_MOVE_MOUNT_F_EMPTY_PATH);
}

int ma_detached_tmpfs(const char *mode) {
  int fs = (int)syscall(CELISTRA_SYS_fsopen, "tmpfs", MA_FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  if (syscall(CELISTRA_SYS_fsconfig, fs, MA_FSCONFIG_SET_STRING, "mode", mode, 0) != 0 ||
      syscall(CELISTRA_SYS_fsconfig, fs, MA_FSCONFIG_SET_STRING, "size", "64k", 0) != 0 ||
      syscall(CELISTRA_SYS_fsconfig, fs, MA_FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) {
    close(fs);
    return -1;
  }
  int mnt = (int)syscall(CELISTRA_SYS_fsmount, fs, MA_FSMOUNT_CLOEXEC, MA_MOUNT_ATTR_NOSUID | MA_MOUNT_ATTR_NODEV | MA_MOUNT_ATTR_NOEXEC);
  close(fs);
  return mnt;
}
