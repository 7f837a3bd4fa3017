/*
 * Exit statuses of celistra-exec when it refuses or fails before the command runs.
 * They sit in 120..124: clear of 126/127 (the shell's "cannot execute" / "not found",
 * which the helper uses with that meaning), of 128+n (killed by signal n) and of
 * Celistra's own 64..79. docs/landlock.md lists them; src/backends/landlock mirrors them.
 */
#ifndef CELISTRA_HELPER_EXIT_H
#define CELISTRA_HELPER_EXIT_H

#define HELPER_EXIT_USAGE 120          /* bad helper arguments (a Celistra bug) */
#define HELPER_EXIT_LANDLOCK_ABI 121   /* no Landlock, or ABI below what the policy needs */
#define HELPER_EXIT_NAMESPACE 122      /* user/mount namespace or a mount step failed */
#define HELPER_EXIT_NETWORK 123        /* network namespace setup failed */
#define HELPER_EXIT_RULESET 124        /* building or applying the Landlock ruleset failed */
#define HELPER_EXIT_CANNOT_EXECUTE 126 /* the command exists but could not be executed */
#define HELPER_EXIT_NOT_FOUND 127      /* the command was not found */

/* Print "celistra-exec: <message>[: <strerror(errno)>]", run the failure hook if one is
 * set, and exit with `status`. */
void helper_fail(int status, int with_errno, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

/*
 * What helper_fail does before exiting, in this process only: the top process, which
 * stands in for `celistra run`, records its own failures as it records the command's exit
 * (exit-report.c). Every child the helper creates calls forget_helper_fail_hook() first,
 * so a failure inside the fence never runs it.
 */
void set_helper_fail_hook(void (*hook)(int status));
void forget_helper_fail_hook(void);

#endif
