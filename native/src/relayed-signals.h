/*
 * The signals Celistra passes on to the command (signal-relay.c), and that `celistra run`
 * must therefore keep for its waiter while it hands its process over (exec-replace.c).
 */
#ifndef CELISTRA_RELAYED_SIGNALS_H
#define CELISTRA_RELAYED_SIGNALS_H

#include <signal.h>

#define RELAYED_SIGNALS SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH

#endif
