/*
 * Landlock ABI as the kernel speaks it, up to ABI 7. Defined here rather than taken
 * from <linux/landlock.h> because Debian 12's headers stop at ABI 2 while the kernels
 * we run on offer more; the values are kernel UAPI and never change once released.
 */
#ifndef CELISTRA_LANDLOCK_ABI_H
#define CELISTRA_LANDLOCK_ABI_H

#include <stdint.h>

/* Unified syscall numbers (identical on every architecture since Linux 5.1). */
#define CELISTRA_SYS_landlock_create_ruleset 444
#define CELISTRA_SYS_landlock_add_rule 445
#define CELISTRA_SYS_landlock_restrict_self 446

/* The newest ABI whose rights this code knows; a newer kernel is used as this one. */
#define CELISTRA_LANDLOCK_ABI_KNOWN 7

#define LL_CREATE_RULESET_VERSION (1U << 0)

#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

/* Filesystem rights. ABI 1 has bits 0..12; each later ABI adds the ones noted. */
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_REMOVE_DIR (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR (1ULL << 6)
#define LL_FS_MAKE_DIR (1ULL << 7)
#define LL_FS_MAKE_REG (1ULL << 8)
#define LL_FS_MAKE_SOCK (1ULL << 9)
#define LL_FS_MAKE_FIFO (1ULL << 10)
#define LL_FS_MAKE_BLOCK (1ULL << 11)
#define LL_FS_MAKE_SYM (1ULL << 12)
#define LL_FS_REFER (1ULL << 13)     /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */

/* Network rights (ABI 4). */
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)

/* Scopes (ABI 6). */
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

/* landlock_restrict_self flags (ABI 7): which denials the kernel audits. */
#define LL_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0)
#define LL_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)
#define LL_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1U << 2)

/* The full attribute struct; older kernels accept it when the newer fields are zero. */
struct ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net; /* ABI 4 */
  uint64_t scoped;             /* ABI 6 */
};

struct ll_path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
  uint64_t allowed_access;
  uint64_t port;
};

/* Rights that make sense on a non-directory; the kernel rejects the others on files. */
#define LL_FS_FILE_RIGHTS (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* Every filesystem right the given ABI knows. */
uint64_t ll_fs_rights_for_abi(int abi);
/* Every network right the given ABI knows (0 below ABI 4). */
uint64_t ll_net_rights_for_abi(int abi);
/* Every scope the given ABI knows (0 below ABI 6). */
uint64_t ll_scopes_for_abi(int abi);

/*
 * The kernel's Landlock ABI version: > 0, or 0 when Landlock is not built in or
 * disabled at boot (errno tells which: ENOSYS or EOPNOTSUPP).
 */
int ll_kernel_abi(void);

int ll_create_ruleset(const struct ll_ruleset_attr *attr, uint32_t flags);
int ll_add_rule(int ruleset_fd, int rule_type, const void *rule_attr);
int ll_restrict_self(int ruleset_fd, uint32_t flags);

#endif
