#include "signal-name.h"

#include <signal.h>

/* Indexed by this architecture's numbers; where two names share one (SIGIO, SIGPOLL),
 * the one Node prints. */
static const char *const NAMES[] = {
    [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",       [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",   [SIGTRAP] = "SIGTRAP",
    [SIGABRT] = "SIGABRT", [SIGBUS] = "SIGBUS",       [SIGFPE] = "SIGFPE",   [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1",
    [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",     [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
    [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",     [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN",
    [SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG",       [SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM",
    [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",   [SIGIO] = "SIGIO",     [SIGSYS] = "SIGSYS",
#ifdef SIGSTKFLT
    [SIGSTKFLT] = "SIGSTKFLT",
#endif
#ifdef SIGPWR
    [SIGPWR] = "SIGPWR",
#endif
};

const char *signal_name(int sig) {
  if (sig <= 0 || (unsigned)sig >= sizeof NAMES / sizeof NAMES[0]) return 0;
  return NAMES[sig];
}
