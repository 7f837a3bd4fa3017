/*
 * The part of celistra-exec that stands in for `celistra run` after it exec'd into the
 * helper (--spool): see exit-report.c.
 */
#ifndef CELISTRA_EXIT_REPORT_H
#define CELISTRA_EXIT_REPORT_H

#include "helper-options.h"

/*
 * With --spool, forks: the child returns and goes on as the helper; this process waits
 * for it in the host's namespaces, then appends the exit event, removes the private temp
 * dir and exits with the command's shell status. Without --spool, returns at once.
 */
void report_exit_when_done(const struct helper_options *o);

#endif
