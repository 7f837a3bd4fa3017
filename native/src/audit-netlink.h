/*
 * The kernel audit netlink socket: asking for the audit status, switching audit on or
 * off, and listening to the read-only multicast group (the "read log") that carries a
 * copy of every audit record, with or without auditd.
 */
#ifndef CELISTRA_AUDIT_NETLINK_H
#define CELISTRA_AUDIT_NETLINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Record types from the kernel UAPI; Debian 12's <linux/audit.h> predates the Landlock ones. */
#define CELISTRA_AUDIT_SYSCALL 1300
#define CELISTRA_AUDIT_LANDLOCK_ACCESS 1423
#define CELISTRA_AUDIT_LANDLOCK_DOMAIN 1424

struct audit_state {
  uint32_t enabled; /* 0 off, 1 on, 2 on and locked until reboot */
  uint32_t pid;     /* auditd's pid, 0 when none is registered */
  uint32_t lost;
  uint32_t backlog;
  uint32_t backlog_limit;
  uint32_t rate_limit;
};

/* A socket for requests (AUDIT_GET / AUDIT_SET); -1 with errno set on failure. */
int audit_request_socket(void);
/* A socket bound to the read-log multicast group (needs CAP_AUDIT_READ); -1 on failure. */
int audit_readlog_socket(void);

/* 0 on success; -1 with errno set (EPERM without CAP_AUDIT_CONTROL for the setter). */
int audit_get_state(int fd, struct audit_state *out);
int audit_set_enabled(int fd, uint32_t enabled);

/*
 * Waits for the next record. Returns its type and copies its text (NUL-terminated,
 * truncated to `cap`) into `text`; -1 with errno set on failure (ENOBUFS: the socket
 * overran and records were lost).
 */
int audit_next_record(int fd, char *text, size_t cap);

#endif
