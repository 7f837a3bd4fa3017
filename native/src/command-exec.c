#define _GNU_SOURCE
#include "command-exec.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper-exit.h"
#include "start-gate.h"

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

/* Where a command is looked for when PATH is unset: glibc's choice, and bwrap's. */
static const char DEFAULT_PATH[] = "/bin:/usr/bin";

/* execv, and for a file that is neither a binary nor "#!": run it with /bin/sh, as a shell would. */
static void exec_file(const char *file, char *const argv[]) {
  execv(file, argv);
  if (errno != ENOEXEC) return;
  int argc = 0;
  while (argv[argc]) argc++;
  char *script_argv[argc + 2];
  script_argv[0] = "/bin/sh";
  script_argv[1] = (char *)file;
  for (int i = 1; i <= argc; i++) script_argv[i + 1] = argv[i];
  execv("/bin/sh", script_argv);
  errno = ENOEXEC;
}

/*
 * execvp spelled out, so the command starts the same whichever C library the helper is
 * built with (build-helper.sh): musl's execvp runs no script without "#!" and has another
 * default PATH. Returns the errno to report. EACCES from a PATH entry we may not search,
 * when the command exists nowhere, is "not found", as a shell would say.
 */
static int exec_searching_path(char *const argv[]) {
  const char *name = argv[0];
  if (name[0] == '\0') return ENOENT;
  if (strchr(name, '/') != NULL) {
    exec_file(name, argv);
    return errno;
  }
  const char *path = getenv("PATH");
  if (path == NULL) path = DEFAULT_PATH;
  int found_unexecutable = 0;
  for (const char *entry = path;;) {
    const char *end = strchrnul(entry, ':');
    char candidate[PATH_MAX];
    /* An empty entry is the current directory. */
    int n = end == entry ? snprintf(candidate, sizeof candidate, "%s", name)
                         : snprintf(candidate, sizeof candidate, "%.*s/%s", (int)(end - entry), entry, name);
    if (n > 0 && (size_t)n < sizeof candidate) {
      exec_file(candidate, argv);
      int err = errno;
      if (err == EACCES) {
        if (access(candidate, F_OK) == 0) found_unexecutable = 1;
      } else if (err != ENOENT && err != ENOTDIR && err != ESTALE && err != ENODEV && err != ETIMEDOUT) {
        return err;
      }
    }
    if (*end == '\0') break;
    entry = end + 1;
  }
  return found_unexecutable ? EACCES : ENOENT;
}

void exec_command(const struct helper_options *o, const sigset_t *mask, int foreground) {
  if (foreground) take_terminal_foreground();
  start_gate_wait();
  sigprocmask(SIG_SETMASK, mask, NULL);
  int err = exec_searching_path(o->command);
  errno = err;
  helper_fail(err == ENOENT || err == ENOTDIR ? HELPER_EXIT_NOT_FOUND : HELPER_EXIT_CANNOT_EXECUTE, 1, "cannot run %s", o->command[0]);
}
