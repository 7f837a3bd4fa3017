/*
 * The part of celistra-exec's top process that stands in for `celistra run` after it
 * exec'd into the helper (--spool): see exit-report.c.
 */
#ifndef CELISTRA_EXIT_REPORT_H
#define CELISTRA_EXIT_REPORT_H

#include "helper-options.h"

/*
 * With --spool: from now on a helper_fail in this process (not in its children) records
 * an exit event with the failure's status, removes the private temp dir and drops the
 * probe cache, as exit_reporting does. Without --spool, does nothing.
 */
void report_failures_of_this_process(const struct helper_options *o);

/*
 * With --spool, once the command (or the helper's child building the fence) has ended
 * with `wait_status`: appends the exit event, removes the private temp dir, drops the
 * probe cache after a helper failure (120..124) and exits with the shell status.
 */
void exit_reporting(const struct helper_options *o, int wait_status) __attribute__((noreturn));

#endif
