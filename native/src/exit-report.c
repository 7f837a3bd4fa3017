/*
 * When `celistra run` hands its process over to celistra-exec (exec-replace.c), no Node
 * process is left to do what Node did after the command: record the exit in the audit
 * log, remove the private TMPDIR, exit with the command's status. The helper's top
 * process does it: it stays in the host's namespaces (the fence is built in its child,
 * pid-namespace-init.c), where it can still write Celistra's state dir, and it already
 * waits for the command. A failure of its own before the command runs (helper_fail) is
 * recorded the same way, with the helper's status as the exit code; failures inside the
 * fence reach it as its child's status.
 *
 * The exit event goes to the audit spool file `celistra run` opened and started with the
 * spawn event (src/core/audit/spool.ts), in the same line format, so intake chains it
 * like any other (src/core/audit/spool-intake.ts).
 */
#define _GNU_SOURCE
#include "exit-report.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper-exit.h"
#include "signal-name.h"
#include "signal-relay.h"

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The data is canonical JSON (keys sorted: code, durationMs, signal), itself a JSON string in the line. */
static void append_exit_event(const struct helper_options *o, int wait_status) {
  char code[16] = "null";
  char signal_json[48] = "null";
  if (WIFSIGNALED(wait_status)) {
    const char *name = signal_name(WTERMSIG(wait_status));
    if (name) snprintf(signal_json, sizeof signal_json, "\\\"%s\\\"", name);
    else snprintf(signal_json, sizeof signal_json, "\\\"SIG%d\\\"", WTERMSIG(wait_status));
  } else {
    snprintf(code, sizeof code, "%d", WEXITSTATUS(wait_status));
  }
  long long now = now_ms();
  long long duration = now - o->started_ms;
  if (duration < 0) duration = 0;
  char line[8192];
  int n = snprintf(line, sizeof line, "{\"ts\":%lld,\"type\":\"exit\",\"agent\":%s,\"data\":\"{\\\"code\\\":%s,\\\"durationMs\\\":%lld,\\\"signal\\\":%s}\"}\n", now,
                   o->audit_agent_json, code, duration, signal_json);
  if (n < 0 || (size_t)n >= sizeof line) return; /* an agent name this long was refused by option parsing */
  int fd = open(o->spool, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return; /* the spawn stays recorded; intake counts a run without exit as ended */
  ssize_t written = write(fd, line, (size_t)n);
  (void)written;
  close(fd);
  /* Finished: intake may take the file whole and remove it. */
  size_t len = strlen(o->spool);
  const char *suffix = ".open";
  if (len > strlen(suffix) && strcmp(o->spool + len - strlen(suffix), suffix) == 0) {
    char done[4096];
    if (len < sizeof done) {
      memcpy(done, o->spool, len - strlen(suffix));
      strcpy(done + len - strlen(suffix), ".done");
      rename(o->spool, done);
    }
  }
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (type == FTW_DP) rmdir(path);
  else unlink(path);
  return 0;
}

/* What the command left in its private TMPDIR; links are removed, never followed. */
static void remove_private_tmp(const char *dir) {
  if (rmdir(dir) == 0 || errno == ENOENT) return;
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

void exit_reporting(const struct helper_options *o, int wait_status) {
  append_exit_event(o, wait_status);
  if (o->remove_tmp && o->tmp) remove_private_tmp(o->tmp);
  /* The helper could not build the fence: the machine changed since the probe was cached. */
  int code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 0;
  if (o->probe_cache && code >= HELPER_EXIT_USAGE && code <= HELPER_EXIT_RULESET) unlink(o->probe_cache);
  /* As `celistra run` always did: a command killed by signal n gives exit status 128+n. */
  _exit(shell_status(wait_status));
}

static const struct helper_options *reported;

/* As a wait status: exited with `status`. */
static void report_own_failure(int status) { exit_reporting(reported, (status & 0xff) << 8); }

void report_failures_of_this_process(const struct helper_options *o) {
  if (o->spool == NULL) return;
  reported = o;
  set_helper_fail_hook(report_own_failure);
}
