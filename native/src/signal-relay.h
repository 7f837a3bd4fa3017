/*
 * The helper's processes that stay behind the command (the outer helper, which Celistra
 * spawned or exec'd into, and pid 1 of the agent's pid namespace) block the signals Celistra passes on
 * and take them with sigwaitinfo(2): no handler runs, and a pid-namespace init, which the
 * kernel shields from signals it has no handler for, still receives them while blocked.
 */
#ifndef CELISTRA_SIGNAL_RELAY_H
#define CELISTRA_SIGNAL_RELAY_H

#include <signal.h>
#include <sys/types.h>

/* Sent to the outer helper by the kernel when Celistra dies (PR_SET_PDEATHSIG). */
#define PARENT_DIED_SIGNAL (SIGRTMIN + 1)

/* Block the relayed signals, SIGCHLD and PARENT_DIED_SIGNAL; `previous` receives the
 * mask to restore in the command's process before exec. */
void block_relayed_signals(sigset_t *previous);

/* Block exactly those, in one step: any other signal blocked so far is let through. */
void block_only_relayed_signals(void);

/*
 * Reap every child that exits and pass SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1/2 and
 * SIGWINCH on to `child` until `child` itself exits; SIGTERM, SIGINT, SIGHUP and SIGQUIT
 * are followed by SIGCONT, so a stopped command ends too. Returns 0 with its wait status in
 * *status, or -1 when PARENT_DIED_SIGNAL arrived first. With `only_from` > 0, only the
 * signals that process sent with kill(2) are passed on; others are taken and dropped.
 */
int relay_until_exit(pid_t child, int *status, pid_t only_from);

/* Exit the way `wait_status` describes: the same exit code, or death by the same signal
 * (handler reset, raised) so the caller sees 128+n. Never dumps core. */
void exit_like(int wait_status) __attribute__((noreturn));

/* The shell's reading of a wait status: the exit code, or 128+n for signal n. */
int shell_status(int wait_status);

#endif
