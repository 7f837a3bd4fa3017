#define _GNU_SOURCE
#include "start-gate.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "helper-exit.h"

/* One gate per helper; its children inherit the descriptors' numbers with their copies. */
static int gate[2] = {-1, -1};

void start_gate_create(void) {
  if (pipe2(gate, O_CLOEXEC) != 0) helper_fail(HELPER_EXIT_NAMESPACE, 1, "cannot create a pipe");
}

void start_gate_join(void) {
  close(gate[1]);
  gate[1] = -1;
}

void start_gate_open(void) {
  close(gate[1]);
  close(gate[0]);
  gate[0] = gate[1] = -1;
}

void start_gate_wait(void) {
  char c;
  while (read(gate[0], &c, 1) < 0 && errno == EINTR) {
  }
}
