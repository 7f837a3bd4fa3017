#define _GNU_SOURCE
#include "inherited-descriptors.h"

#include <sys/syscall.h>
#include <unistd.h>

/* Same number on every architecture; this machine's headers may predate it. */
#define CELISTRA_SYS_close_range 436

void close_inherited_descriptors(void) { syscall(CELISTRA_SYS_close_range, 3U, ~0U, 0U); }
