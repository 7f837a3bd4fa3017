/*
 * The last step, in the process that becomes the command: restore the signal mask the
 * helper inherited, take the terminal's foreground when the helper held it, and exec.
 */
#ifndef CELISTRA_COMMAND_EXEC_H
#define CELISTRA_COMMAND_EXEC_H

#include <signal.h>

#include "helper-options.h"

/* True when stdin is a terminal whose foreground process group is ours: Celistra's PTY. */
int holds_terminal_foreground(void);

/*
 * In a child of the helper: lead a new process group that becomes the terminal's
 * foreground group (when `foreground`), so ^C, ^Z and SIGWINCH from the terminal reach
 * the command and a shell's job control works; then exec it, searching PATH as execvp
 * does. Exits 126/127 on failure.
 */
void exec_command(const struct helper_options *o, const sigset_t *mask, int foreground) __attribute__((noreturn));

#endif
