#define _GNU_SOURCE
#include "seccomp-filter.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "helper-exit.h"

#define INSTRUCTION_BYTES 8
#define MAX_INSTRUCTIONS 4096 /* BPF_MAXINSNS */

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void parse_seccomp_program(const char *hex, struct seccomp_program *out) {
  size_t digits = strlen(hex);
  size_t bytes = digits / 2;
  if (digits % 2 != 0 || bytes == 0 || bytes % INSTRUCTION_BYTES != 0 || bytes / INSTRUCTION_BYTES > MAX_INSTRUCTIONS) {
    helper_fail(HELPER_EXIT_USAGE, 0, "--seccomp-filter needs whole BPF instructions in lowercase hex");
  }
  unsigned char *program = malloc(bytes);
  if (program == NULL) helper_fail(HELPER_EXIT_USAGE, 1, "out of memory");
  for (size_t i = 0; i < bytes; i++) {
    int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) helper_fail(HELPER_EXIT_USAGE, 0, "--seccomp-filter needs whole BPF instructions in lowercase hex");
    program[i] = (unsigned char)(hi << 4 | lo);
  }
  out->bytes = program;
  out->length = bytes;
}

void apply_seccomp_program(const struct seccomp_program *program) {
  if (program->length == 0) return;
  struct sock_fprog prog = {
      .len = (unsigned short)(program->length / INSTRUCTION_BYTES),
      .filter = (struct sock_filter *)program->bytes,
  };
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
    helper_fail(HELPER_EXIT_RULESET, 1, "cannot install the seccomp filter that refuses unix sockets");
  }
}
