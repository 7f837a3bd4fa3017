/*
 * celistra-audit: Celistra's window on kernel audit, for the daemon's denial collector.
 *
 *   celistra-audit status          print the audit state (one line of key=value)
 *   celistra-audit read            stream Landlock records from the read-log group, one
 *                                  per line: "<type> <text>"; never changes audit settings
 *   celistra-audit set-enabled 0|1 switch kernel audit off/on (host-wide; only for an
 *                                  explicit opt-in and for tests that restore it)
 *
 * The read log is a copy of every audit record; only Landlock's (1423, 1424) are
 * passed on, plus the SYSCALL record that closes the same event (it names the denied
 * process's pid and parent). Exit status 1 with a message on stderr when the kernel
 * refuses (no CAP_AUDIT_READ / CAP_AUDIT_CONTROL, no audit support).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "audit-netlink.h"

#define MAX_TEXT 8192
/* Serials of recent Landlock events, to pick out their SYSCALL records. */
#define RECENT_SERIALS 256

__attribute__((noreturn)) static void fail(const char *what) {
  int saved = errno;
  const char *hint = saved == EPERM ? " (needs root or CAP_AUDIT_READ / CAP_AUDIT_CONTROL)" : saved == EPROTONOSUPPORT ? " (this kernel has no audit support)" : "";
  fprintf(stderr, "celistra-audit: %s: %s%s\n", what, strerror(saved), hint);
  exit(1);
}

static int print_state(void) {
  int fd = audit_request_socket();
  if (fd < 0) fail("cannot open the audit netlink socket");
  struct audit_state s;
  if (audit_get_state(fd, &s) != 0) fail("cannot read the audit state (AUDIT_GET)");
  printf("enabled=%u auditd_pid=%u lost=%u backlog=%u backlog_limit=%u rate_limit=%u\n", s.enabled, s.pid, s.lost, s.backlog, s.backlog_limit, s.rate_limit);
  close(fd);
  return 0;
}

static int set_enabled(const char *arg) {
  if (strcmp(arg, "0") != 0 && strcmp(arg, "1") != 0) {
    fprintf(stderr, "celistra-audit: set-enabled takes 0 or 1, not \"%s\"\n", arg);
    return 2;
  }
  int fd = audit_request_socket();
  if (fd < 0) fail("cannot open the audit netlink socket");
  struct audit_state before;
  if (audit_get_state(fd, &before) != 0) fail("cannot read the audit state (AUDIT_GET)");
  if (before.enabled == 2) {
    fprintf(stderr, "celistra-audit: audit is locked (enabled=2) until reboot; it cannot be changed\n");
    return 1;
  }
  if (audit_set_enabled(fd, (uint32_t)atoi(arg)) != 0) fail("cannot change the audit state (AUDIT_SET)");
  printf("was=%u now=%s\n", before.enabled, arg);
  close(fd);
  return 0;
}

/* "audit(1729738800.268:30): ..." -> 30; 0 when the text is not shaped so. */
static unsigned long record_serial(const char *text) {
  const char *colon = strchr(text, ':');
  const char *close = strchr(text, ')');
  if (colon == NULL || close == NULL || colon > close) return 0;
  return strtoul(colon + 1, NULL, 10);
}

static int is_recent(const unsigned long *serials, unsigned long serial) {
  for (int i = 0; i < RECENT_SERIALS; i++) {
    if (serials[i] == serial) return 1;
  }
  return 0;
}

/* Audit escapes untrusted strings, but a line must stay one line whatever the kernel sends. */
static void print_line(int type, char *text) {
  for (char *c = text; *c; c++) {
    if ((unsigned char)*c < 0x20) *c = ' ';
  }
  printf("%d %s\n", type, text);
  fflush(stdout);
}

__attribute__((noreturn)) static void read_records(void) {
  /* The reader must not outlive the daemon that reads its output. (Should the daemon die
   * before this line, the next record's write fails with SIGPIPE and ends us anyway.) */
  prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
  int fd = audit_readlog_socket();
  if (fd < 0) fail("cannot join the audit read-log multicast group");
  printf("ready\n");
  fflush(stdout);
  static char text[MAX_TEXT];
  unsigned long serials[RECENT_SERIALS] = {0};
  int next = 0;
  for (;;) {
    int type = audit_next_record(fd, text, sizeof text);
    if (type < 0) {
      if (errno == ENOBUFS) {
        /* The kernel dropped records we were too slow for: say so, keep reading. */
        printf("overrun\n");
        fflush(stdout);
        continue;
      }
      fail("cannot read from the audit read-log group");
    }
    if (type == CELISTRA_AUDIT_LANDLOCK_ACCESS || type == CELISTRA_AUDIT_LANDLOCK_DOMAIN) {
      unsigned long serial = record_serial(text);
      if (serial != 0 && !is_recent(serials, serial)) {
        serials[next] = serial;
        next = (next + 1) % RECENT_SERIALS;
      }
      print_line(type, text);
    } else if (type == CELISTRA_AUDIT_SYSCALL && is_recent(serials, record_serial(text))) {
      print_line(type, text);
    }
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "status") == 0) return print_state();
  if (argc == 2 && strcmp(argv[1], "read") == 0) read_records();
  if (argc == 3 && strcmp(argv[1], "set-enabled") == 0) return set_enabled(argv[2]);
  fprintf(stderr, "usage: celistra-audit status | read | set-enabled 0|1\n");
  return 2;
}
