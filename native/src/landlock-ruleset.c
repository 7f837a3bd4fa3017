#define _GNU_SOURCE
#include "landlock-ruleset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper-exit.h"
#include "landlock-abi.h"

#define READ_RIGHTS (LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_READ_DIR)

/* Device files a normal program opens for writing: sinks, randomness, its terminal. */
static const char *const DEVICE_FILES[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx", NULL};

int required_landlock_abi(const struct helper_options *o) {
  int abi = 1;
  /* Without a read-only remount, only TRUNCATE (ABI 3) stops truncate(2) outside. */
  if (!o->namespaces) abi = 3;
  /* Without a network namespace, only TCP rules (ABI 4) can take the network away. */
  if (o->network_off && !o->namespaces) abi = 4;
  return abi;
}

static void add_rule_for_fd(int ruleset, int fd, const char *path, uint64_t rights) {
  struct stat st;
  if (fstat(fd, &st) != 0) helper_fail(HELPER_EXIT_RULESET, 1, "cannot stat %s", path);
  if (!S_ISDIR(st.st_mode)) rights &= LL_FS_FILE_RIGHTS;
  struct ll_path_beneath_attr rule = {.allowed_access = rights, .parent_fd = fd};
  if (rights != 0 && ll_add_rule(ruleset, LL_RULE_PATH_BENEATH, &rule) != 0) helper_fail(HELPER_EXIT_RULESET, 1, "cannot add a Landlock rule for %s", path);
}

/* Adds a path-beneath rule; `optional` paths that do not exist are skipped. */
static void allow_path(int ruleset, const char *path, uint64_t rights, int optional) {
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    if (optional && errno == ENOENT) return;
    helper_fail(HELPER_EXIT_RULESET, 1, "cannot open %s for a Landlock rule", path);
  }
  add_rule_for_fd(ruleset, fd, path, rights);
  close(fd);
}

/*
 * Without a private devpts, /dev/pts is the host's: grant only the terminals on our own
 * stdio, never the directory (other agents' and the user's terminals live there).
 */
static void allow_own_terminals(int ruleset, uint64_t rights) {
  for (int fd = 0; fd <= 2; fd++) {
    char name[PATH_MAX];
    if (!isatty(fd) || ttyname_r(fd, name, sizeof name) != 0) continue;
    if (strncmp(name, "/dev/pts/", 9) == 0) allow_path(ruleset, name, rights, 1);
  }
}

static int is_denied(const struct path_list *denied, const char *path) {
  for (int i = 0; i < denied->count; i++) {
    if (strcmp(path, denied->items[i]) == 0) return 1;
  }
  return 0;
}

static int holds_denied(const struct path_list *denied, const char *dir) {
  for (int i = 0; i < denied->count; i++) {
    if (path_within(denied->items[i], dir) && strcmp(denied->items[i], dir) != 0) return 1;
  }
  return 0;
}

/*
 * Landlock only allows, so "readable except D" becomes: grant read on every sibling
 * along the way down to each denied path, never on D or on its ancestors themselves.
 * Ancestors stay traversable (path walks need no right) but cannot be listed.
 *
 * /dev is walked the same way, and under it read is granted on everything but device
 * nodes (`devfs`: the stat of /dev while inside it, else NULL). The host's /dev holds
 * terminals outside /dev/pts that are the user's own (a console login's /dev/ttyN, given
 * to that user), and for root /dev/console, the serial and virtual consoles and their
 * screen memory (/dev/vcs*), raw input devices, the kernel log: reading one is reading
 * keystrokes or a screen (found by attack, issue 15: a command under Landlock opened a
 * VT its user owned, and as root /dev/tty1 and /dev/console, for reading). The few
 * device files every program needs get their own rule (DEVICE_FILES). A subdirectory on
 * the same file system is walked likewise; another one mounted under /dev (/dev/shm,
 * /dev/mqueue, /dev/hugepages; nodev as a rule) is granted as a whole.
 */
static void allow_read_except_denied(int ruleset, const struct path_list *denied, const char *dir, uint64_t rights, const struct stat *devfs) {
  DIR *d = opendir(dir);
  if (d == NULL) helper_fail(HELPER_EXIT_RULESET, 1, "cannot list %s", dir);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char child[PATH_MAX];
    int n = snprintf(child, sizeof child, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, e->d_name);
    if (n < 0 || (size_t)n >= sizeof child) helper_fail(HELPER_EXIT_RULESET, 0, "path too long under %s", dir);
    if (is_denied(denied, child)) continue;
    /* A symlink is checked at its target, which this walk covers wherever it lies. */
    if (e->d_type == DT_LNK) continue;
    int fd = openat(dirfd(d), e->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue; /* vanished while listing */
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISLNK(st.st_mode) || (devfs && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))) {
      close(fd);
      continue;
    }
    if (S_ISDIR(st.st_mode) && devfs == NULL && strcmp(child, "/dev") == 0) allow_read_except_denied(ruleset, denied, child, rights, &st);
    else if (S_ISDIR(st.st_mode) && devfs && st.st_dev == devfs->st_dev) allow_read_except_denied(ruleset, denied, child, rights, devfs);
    else if (S_ISDIR(st.st_mode) && holds_denied(denied, child)) allow_read_except_denied(ruleset, denied, child, rights, devfs);
    else add_rule_for_fd(ruleset, fd, child, rights);
    close(fd);
  }
  closedir(d);
}

void apply_landlock(const struct helper_options *o, int abi, const struct mount_fence *mounts) {
  uint64_t all_fs = ll_fs_rights_for_abi(abi);
  struct ll_ruleset_attr attr = {
      .handled_access_fs = all_fs,
      .handled_access_net = (o->network_off && !o->namespaces) ? ll_net_rights_for_abi(abi) : 0,
      .scoped = ll_scopes_for_abi(abi),
  };
  int ruleset = ll_create_ruleset(&attr, 0);
  if (ruleset < 0) helper_fail(HELPER_EXIT_RULESET, 1, "cannot create a Landlock ruleset (ABI %d)", abi);

  /*
   * Read everywhere but the device nodes under /dev (allow_read_except_denied) and
   * /dev/pts. With a mount namespace, the policy's denied paths are masked and /dev/pts
   * is private (granted below), and /dev itself may be listed. Without one, the host's
   * /dev/pts (other terminals' keystrokes) is denied along with the policy's paths.
   */
  {
    int policy_denied = o->namespaces ? 0 : o->deny_read.count;
    const char *items[policy_denied + 1];
    struct path_list denied = {items, 0};
    for (int i = 0; i < policy_denied; i++) items[denied.count++] = o->deny_read.items[i];
    items[denied.count++] = "/dev/pts";
    allow_read_except_denied(ruleset, &denied, "/", READ_RIGHTS, NULL);
    if (o->namespaces) allow_path(ruleset, "/dev", LL_FS_READ_DIR, 1);
  }

  for (int i = 0; i < o->write.count; i++) allow_path(ruleset, o->write.items[i], all_fs, 0);
  if (o->tmp) allow_path(ruleset, o->tmp, all_fs, 0);
  if (mounts && mounts->private_tmp) allow_path(ruleset, "/tmp", all_fs, 0);
  if (mounts && mounts->private_shm) allow_path(ruleset, "/dev/shm", all_fs, 0);

  uint64_t device_rights = (READ_RIGHTS | LL_FS_WRITE_FILE | LL_FS_IOCTL_DEV) & all_fs;
  for (const char *const *dev = DEVICE_FILES; *dev; dev++) allow_path(ruleset, *dev, device_rights, 1);
  if (mounts && mounts->private_pts) allow_path(ruleset, "/dev/pts", device_rights, 0);
  else allow_own_terminals(ruleset, device_rights);

  /* no_new_privs: setuid binaries give nothing, and unprivileged Landlock requires it. */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) helper_fail(HELPER_EXIT_RULESET, 1, "cannot set no_new_privs");
  /* ABI 7: audit the command's denials too (by default only those before execve are). */
  uint32_t flags = abi >= 7 ? LL_RESTRICT_SELF_LOG_NEW_EXEC_ON : 0;
  if (ll_restrict_self(ruleset, flags) != 0) helper_fail(HELPER_EXIT_RULESET, 1, "cannot apply the Landlock ruleset");
  close(ruleset);
}
