/*
 * celistra-exec's waiter mode, what `celistra run` becomes: see run-waiter.c.
 */
#ifndef CELISTRA_RUN_WAITER_H
#define CELISTRA_RUN_WAITER_H

/* Relay signals to the child `pid_text` until it exits, then exit as it did. */
void wait_for_helper(const char *pid_text) __attribute__((noreturn));

#endif
