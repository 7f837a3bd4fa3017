#define _GNU_SOURCE
#include "mount-fence.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "helper-exit.h"
#include "mount-api.h"

#define TMP "/tmp"
#define SHM "/dev/shm"
#define PTS "/dev/pts"
#define MASK_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

int wants_private_tmp(const struct helper_options *o) {
  for (int i = 0; i < o->write.count; i++) {
    if (path_within(TMP, o->write.items[i])) return 0; /* the root is /tmp or holds it */
  }
  struct stat st;
  return stat(TMP, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * The top-level /tmp/<x> dirs the plan keeps (--keep-tmp: those holding a writable root
 * or the command) come back read-only inside the private /tmp, so a worktree there reads
 * its main repository beside it. Everything else in the host's /tmp (other users' and
 * agents' files, tmux and ssh-agent sockets) stays out of sight.
 */
static int within_a_top(const struct path_list *tops, const char *path) {
  for (int i = 0; i < tops->count; i++) {
    if (path_within(path, tops->items[i])) return 1;
  }
  return 0;
}

/* Creates the missing components of `path` (inside a mask or the new /tmp). */
static void make_dirs(const char *path) {
  char buf[PATH_MAX];
  if (strlen(path) >= sizeof buf) helper_fail(HELPER_EXIT_NAMESPACE, 0, "path too long: %s", path);
  strcpy(buf, path);
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char saved = *p;
    *p = '\0';
    struct stat st;
    if (stat(buf, &st) != 0) {
      if (errno != ENOENT || mkdir(buf, 0711) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot create mount point %s", buf);
    }
    *p = saved;
    if (saved == '\0') break;
  }
}

/* The writable roots in one list: --write entries, then --tmp. */
static int writable_roots(const struct helper_options *o, const char **out) {
  int n = 0;
  for (int i = 0; i < o->write.count; i++) out[n++] = o->write.items[i];
  if (o->tmp) out[n++] = o->tmp;
  return n;
}

/* Hidden by the new /tmp: under /tmp and not brought back with a top. */
static int hidden_by_private_tmp(const struct path_list *tops, const char *path, int private_tmp) {
  return private_tmp && path_within(path, TMP) && !within_a_top(tops, path);
}

/* A writable root that a mask or the new /tmp would hide, so it is re-attached after. */
static int hidden_by_masks(const struct helper_options *o, const struct path_list *tops, const char *root, int private_tmp) {
  if (hidden_by_private_tmp(tops, root, private_tmp)) return 1;
  for (int i = 0; i < o->deny_read.count; i++) {
    if (path_within(root, o->deny_read.items[i])) return 1;
  }
  return 0;
}

static void mask_denied_dir(const char *dir, int holds_reexposed) {
  /* Mode 0 hides even the listing; 0711 when a re-attached root must stay reachable. */
  const char *opts = holds_reexposed ? "mode=0711,size=64k" : "mode=0000,size=64k";
  if (mount("tmpfs", dir, "tmpfs", MASK_FLAGS, opts) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot mask read-denied %s", dir);
}

static void mask_denied_file(const char *file, int *empty_source) {
  if (*empty_source < 0) {
    int mnt = ma_detached_tmpfs("0000");
    if (mnt < 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot create the tmpfs that masks read-denied files");
    int fd = openat(mnt, "empty", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0);
    if (fd < 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot create the empty mask file");
    close(fd);
    *empty_source = mnt;
  }
  int clone = ma_clone_at(*empty_source, "empty");
  if (clone < 0 || ma_attach(clone, file) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot mask read-denied %s", file);
  close(clone);
  if (ma_set_readonly(file, 1, 0) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot make the mask of %s read-only", file);
}

void apply_mount_fence(const struct helper_options *o, struct mount_fence *out) {
  const char *roots[o->write.count + 1];
  int root_count = writable_roots(o, roots);
  int was_readonly[root_count];
  int reexpose_fd[root_count];

  out->private_tmp = wants_private_tmp(o);
  struct path_list none = {NULL, 0};
  const struct path_list tops = out->private_tmp ? o->keep_tmp : none;
  int top_fd[tops.count + 1];
  out->private_shm = 0;
  out->private_pts = 0;

  /* Nothing we do here may leak back into the host's mount table. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot make mounts private");

  for (int i = 0; i < root_count; i++) {
    struct statvfs vfs;
    if (statvfs(roots[i], &vfs) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot stat writable root %s", roots[i]);
    was_readonly[i] = (vfs.f_flag & ST_RDONLY) != 0;
  }

  /*
   * Read-only everywhere: EROFS is what stops chmod, chown, utime, xattrs and truncate
   * outside the writable roots, which Landlock alone cannot (or, below ABI 3, truncate).
   */
  if (ma_set_readonly("/", 1, 1) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot remount / read-only");

  for (int i = 0; i < root_count; i++) {
    if (mount(roots[i], roots[i], NULL, MS_BIND | MS_REC, NULL) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot bind writable root %s", roots[i]);
    if (!was_readonly[i] && ma_set_readonly(roots[i], 0, 0) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot make %s writable", roots[i]);
  }

  /* A bind mount cannot be renamed or unlinked (EBUSY), and read-only stops writes. */
  for (int i = 0; i < o->read_only.count; i++) {
    const char *p = o->read_only.items[i];
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot bind read-only path %s", p);
    if (ma_set_readonly(p, 1, 1) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot make %s read-only", p);
  }

  for (int i = 0; i < root_count; i++) {
    reexpose_fd[i] = -1;
    if (!hidden_by_masks(o, &tops, roots[i], out->private_tmp)) continue;
    reexpose_fd[i] = ma_clone_tree(roots[i]);
    if (reexpose_fd[i] < 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot keep %s reachable under a mask", roots[i]);
  }

  int empty_source = -1;
  for (int i = 0; i < o->deny_read.count; i++) {
    const char *d = o->deny_read.items[i];
    if (hidden_by_private_tmp(&tops, d, out->private_tmp)) continue; /* the new /tmp hides it */
    struct stat st;
    if (lstat(d, &st) != 0) {
      if (errno == ENOENT) continue;
      helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot stat read-denied %s", d);
    }
    if (S_ISDIR(st.st_mode)) {
      int holds = 0;
      for (int r = 0; r < root_count; r++) holds |= reexpose_fd[r] >= 0 && path_within(roots[r], d);
      mask_denied_dir(d, holds);
    } else {
      mask_denied_file(d, &empty_source);
    }
  }
  if (empty_source >= 0) close(empty_source);

  /* Cloned after the masks and binds inside them, so each top comes back with them. */
  int top_is_dir[tops.count + 1];
  for (int i = 0; i < tops.count; i++) {
    struct stat st;
    if (stat(tops.items[i], &st) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot keep %s in the private /tmp", tops.items[i]);
    top_is_dir[i] = S_ISDIR(st.st_mode);
    top_fd[i] = ma_clone_tree(tops.items[i]);
    if (top_fd[i] < 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot keep %s reachable in the private /tmp", tops.items[i]);
  }
  if (out->private_tmp && mount("tmpfs", TMP, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot mount a private /tmp");
  for (int i = 0; i < tops.count; i++) {
    /* A command kept from /tmp may be a file right in it: its mount point is an empty file. */
    if (top_is_dir[i]) make_dirs(tops.items[i]);
    else {
      int fd = open(tops.items[i], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
      if (fd < 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot create mount point %s", tops.items[i]);
      close(fd);
    }
    if (ma_attach(top_fd[i], tops.items[i]) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot re-attach %s", tops.items[i]);
    close(top_fd[i]);
  }

  struct stat shm;
  if (stat(SHM, &shm) == 0 && S_ISDIR(shm.st_mode)) {
    if (mount("tmpfs", SHM, "tmpfs", MASK_FLAGS, "mode=1777") != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot mount a private /dev/shm");
    out->private_shm = 1;
  }

  /*
   * The host's /dev/pts holds every terminal of this user (other agents, the user's own
   * shells): opening one would let the command read their keystrokes. A new devpts
   * instance holds only the PTYs the command creates; its own terminal stays reachable
   * through the inherited descriptors and /dev/tty.
   */
  struct stat pts;
  if (stat(PTS, &pts) == 0 && S_ISDIR(pts.st_mode)) {
    if (mount("devpts", PTS, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot mount a private /dev/pts");
    out->private_pts = 1;
  }

  for (int i = 0; i < root_count; i++) {
    if (reexpose_fd[i] < 0) continue;
    make_dirs(roots[i]);
    if (ma_attach(reexpose_fd[i], roots[i]) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot re-attach %s", roots[i]);
    close(reexpose_fd[i]);
  }

  /* Masks were writable only so that re-attached roots could get their mount points. */
  for (int i = 0; i < o->deny_read.count; i++) {
    const char *d = o->deny_read.items[i];
    if (hidden_by_private_tmp(&tops, d, out->private_tmp)) continue;
    struct stat st;
    if (lstat(d, &st) == 0 && S_ISDIR(st.st_mode) && ma_set_readonly(d, 1, 0) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot make the mask of %s read-only", d);
  }
}
