/*
 * Descriptors a process of the helper inherited beyond stdio: the supervisor's sockets,
 * other agents' PTYs. Neither the command nor the waiter may keep them.
 */
#ifndef CELISTRA_INHERITED_DESCRIPTORS_H
#define CELISTRA_INHERITED_DESCRIPTORS_H

/* Close every descriptor from 3 up (close_range(2), Linux 5.9; older kernels keep them
 * only where the caller forgot O_CLOEXEC, as Node never does). */
void close_inherited_descriptors(void);

#endif
