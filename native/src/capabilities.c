#include "capabilities.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper-exit.h"

static int holds_any_capability(void) {
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &header, data) != 0) return 1;
  return (data[0].permitted | data[1].permitted | data[0].inheritable | data[1].inheritable) != 0;
}

void drop_all_capabilities(void) {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    helper_fail(HELPER_EXIT_RULESET, 1, "cannot clear ambient capabilities");
  }
  for (int cap = 0;; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
    if (errno == EINVAL) break; /* past the last capability this kernel knows */
    /* Without CAP_SETPCAP we cannot shrink the bounding set, but then an unprivileged
     * caller with no capabilities gains none at exec either (no_new_privs stops file
     * capabilities). */
    if (errno == EPERM && !holds_any_capability()) break;
    helper_fail(HELPER_EXIT_RULESET, 1, "cannot drop capability %d", cap);
  }
}

void clear_own_capabilities(void) {
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct none[2] = {{0, 0, 0}, {0, 0, 0}};
  if (syscall(SYS_capset, &header, none) != 0) helper_fail(HELPER_EXIT_RULESET, 1, "cannot clear the helper's capabilities");
}
