#ifndef CELISTRA_CAPABILITIES_H
#define CELISTRA_CAPABILITIES_H

/*
 * Empty the capability bounding and ambient sets, so the command gets no capability
 * when it execs, even as uid 0. Otherwise root (or root in our user namespace) could
 * undo read-only mounts with mount_setattr(2), which Landlock does not mediate, or reach
 * reboot, clock and network configuration. Exits with HELPER_EXIT_RULESET on failure.
 */
void drop_all_capabilities(void);

/*
 * Empty this process's own permitted, effective and inheritable sets. For a helper process
 * that stays alive without exec'ing (the pid-namespace init): exec would clear them for
 * the command, but nothing clears them for a process that never execs.
 */
void clear_own_capabilities(void);

#endif
