#include "helper-exit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void (*fail_hook)(int status);

void set_helper_fail_hook(void (*hook)(int status)) { fail_hook = hook; }

void forget_helper_fail_hook(void) { fail_hook = NULL; }

void helper_fail(int status, int with_errno, const char *fmt, ...) {
  int saved = errno;
  char line[4096];
  size_t used = (size_t)snprintf(line, sizeof line, "celistra-exec: ");
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line + used, sizeof line - used, fmt, ap);
  va_end(ap);
  if (n > 0) used += (size_t)n < sizeof line - used ? (size_t)n : sizeof line - used - 1;
  if (with_errno && used < sizeof line) used += (size_t)snprintf(line + used, sizeof line - used, ": %s", strerror(saved));
  if (used >= sizeof line - 1) used = sizeof line - 2;
  line[used++] = '\n';
  /* One write, so the line is not interleaved with the command's own output. */
  ssize_t ignored = write(STDERR_FILENO, line, used);
  (void)ignored;
  void (*hook)(int) = fail_hook;
  fail_hook = NULL; /* once: a failure inside the hook must not run it again */
  if (hook) hook(status);
  _exit(status);
}
