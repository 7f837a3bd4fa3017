#define _GNU_SOURCE
#include "command-exec.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper-exit.h"

int holds_terminal_foreground(void) {
  if (!isatty(STDIN_FILENO)) return 0;
  pid_t fg = tcgetpgrp(STDIN_FILENO);
  return fg > 0 && fg == getpgrp();
}

static void take_terminal_foreground(void) {
  if (setpgid(0, 0) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot create the command's process group");
  /* A background group calling tcsetpgrp is sent SIGTTOU unless it ignores it. */
  struct sigaction ignore = {.sa_handler = SIG_IGN}, previous;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGTTOU, &ignore, &previous);
  if (tcsetpgrp(STDIN_FILENO, getpgrp()) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot give the terminal to the command");
  sigaction(SIGTTOU, &previous, NULL);
}

/*
 * execvp reports EACCES when some PATH entry is unreadable to us even if the command
 * exists nowhere; like a shell, call that "not found" unless a file by that name exists.
 */
static int exec_failure_status(const char *command, int err) {
  if (err == ENOENT || err == ENOTDIR) return HELPER_EXIT_NOT_FOUND;
  if (err != EACCES || strchr(command, '/') != NULL) return HELPER_EXIT_CANNOT_EXECUTE;
  const char *path = getenv("PATH");
  if (path == NULL) path = "/bin:/usr/bin";
  while (*path) {
    const char *end = strchr(path, ':');
    size_t len = end ? (size_t)(end - path) : strlen(path);
    char candidate[PATH_MAX];
    if (len > 0 && (size_t)snprintf(candidate, sizeof candidate, "%.*s/%s", (int)len, path, command) < sizeof candidate &&
        access(candidate, F_OK) == 0) {
      return HELPER_EXIT_CANNOT_EXECUTE;
    }
    path += len + (end ? 1 : 0);
  }
  return HELPER_EXIT_NOT_FOUND;
}

void exec_command(const struct helper_options *o, const sigset_t *mask, int foreground) {
  if (foreground) take_terminal_foreground();
  sigprocmask(SIG_SETMASK, mask, NULL);
  execvp(o->command[0], o->command);
  int err = errno;
  int status = exec_failure_status(o->command[0], err);
  errno = status == HELPER_EXIT_NOT_FOUND ? ENOENT : err;
  helper_fail(status, 1, "cannot run %s", o->command[0]);
}
