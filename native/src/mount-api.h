/*
 * The "new" mount API (Linux 5.2+, mount_setattr 5.12+), called by number: glibc 2.36
 * has no wrappers and <linux/mount.h> clashes with <sys/mount.h> there.
 */
#ifndef CELISTRA_MOUNT_API_H
#define CELISTRA_MOUNT_API_H

#include <stdint.h>

#define CELISTRA_SYS_open_tree 428
#define CELISTRA_SYS_move_mount 429
#define CELISTRA_SYS_fsopen 430
#define CELISTRA_SYS_fsconfig 431
#define CELISTRA_SYS_fsmount 432
#define CELISTRA_SYS_mount_setattr 442

#define MA_OPEN_TREE_CLONE 1
#define MA_AT_RECURSIVE 0x8000
#define MA_AT_EMPTY_PATH 0x1000
#define MA_MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MA_FSOPEN_CLOEXEC 0x00000001
#define MA_FSMOUNT_CLOEXEC 0x00000001
#define MA_FSCONFIG_SET_STRING 1
#define MA_FSCONFIG_CMD_CREATE 6
#define MA_MOUNT_ATTR_RDONLY 0x00000001
#define MA_MOUNT_ATTR_NOSUID 0x00000002
#define MA_MOUNT_ATTR_NODEV 0x00000004
#define MA_MOUNT_ATTR_NOEXEC 0x00000008

struct ma_mount_attr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

/* Set or clear MOUNT_ATTR_RDONLY on the mount at `path` (and below it when recursive). */
int ma_set_readonly(const char *path, int readonly, int recursive);
/* A detached copy of the mount tree at `path` (with submounts), as an fd. */
int ma_clone_tree(const char *path);
/* A detached copy of the mount at `dirfd`/`name`. */
int ma_clone_at(int dirfd, const char *name);
/* Attach a detached mount fd at `target`. */
int ma_attach(int mount_fd, const char *target);
/* A new, detached tmpfs with the given root mode (e.g. "0"), as a mount fd. */
int ma_detached_tmpfs(const char *mode);

#endif
