#include "landlock-abi.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

uint64_t ll_fs_rights_for_abi(int abi) {
  uint64_t rights = (LL_FS_MAKE_SYM << 1) - 1; /* bits 0..12: ABI 1 */
  if (abi >= 2) rights |= LL_FS_REFER;
  if (abi >= 3) rights |= LL_FS_TRUNCATE;
  if (abi >= 5) rights |= LL_FS_IOCTL_DEV;
  return abi >= 1 ? rights : 0;
}

uint64_t ll_net_rights_for_abi(int abi) {
  return abi >= 4 ? (LL_NET_BIND_TCP | LL_NET_CONNECT_TCP) : 0;
}

uint64_t ll_scopes_for_abi(int abi) {
  return abi >= 6 ? (LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL) : 0;
}

int ll_kernel_abi(void) {
  long abi = syscall(CELISTRA_SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  if (abi < 0) return 0;
  return (int)abi;
}

int ll_create_ruleset(const struct ll_ruleset_attr *attr, uint32_t flags) {
  return (int)syscall(CELISTRA_SYS_landlock_create_ruleset, attr, sizeof(*attr), flags);
}

int ll_add_rule(int ruleset_fd, int rule_type, const void *rule_attr) {
  return (int)syscall(CELISTRA_SYS_landlock_add_rule, ruleset_fd, rule_type, rule_attr, 0);
}

int ll_restrict_self(int ruleset_fd, uint32_t flags) {
  return (int)syscall(CELISTRA_SYS_landlock_restrict_self, ruleset_fd, flags);
}
