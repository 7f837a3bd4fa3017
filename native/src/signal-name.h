/*
 * Signal names as Node reports them ("SIGTERM"), for the exit event the helper records
 * in the audit spool (exit-report.c). Our own table: glibc's sigabbrev_np is not in
 * every C library the helper is built with (musl, build-helper.sh).
 */
#ifndef CELISTRA_SIGNAL_NAME_H
#define CELISTRA_SIGNAL_NAME_H

/* "SIGTERM" for SIGTERM; NULL for a signal without a standard name (real-time ones). */
const char *signal_name(int sig);

#endif
