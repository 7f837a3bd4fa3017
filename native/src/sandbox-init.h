/*
 * `celistra-exec --sandbox-init -- COMMAND...`: pid 1 of a bubblewrap sandbox, in place of
 * bwrap's own init (bwrap --as-pid-1). Celistra's runs wait on that init, which reports
 * the command's exit; bwrap's own is dumpable and of the command's uid, so an unprivileged
 * command could write a loop into it through /proc/1/mem and hang the run
 * (docs/security.md, "Hangs"). This one makes itself not dumpable before the command
 * exists, forks it, reaps every orphan, and exits with the command's status when the
 * command exits (the kernel then ends the rest of the namespace). It relays no signal:
 * the terminal's reach the command directly, and Celistra ends a run by ending bwrap,
 * whose --die-with-parent takes this process along.
 */
#ifndef CELISTRA_SANDBOX_INIT_H
#define CELISTRA_SANDBOX_INIT_H

void run_sandbox_init(char **argv) __attribute__((noreturn));

#endif
