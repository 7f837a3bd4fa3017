/*
 * The command starts only once the helper's top process has let go of what it must not
 * hold while the command runs: spawned by Celistra as root, its capabilities
 * (exec-helper.c). Otherwise a quick command could be running before the top process got
 * there. The gate is a pipe the top process closes; the command's process waits for that
 * end-of-file just before its exec, by which time it has nearly always come.
 */
#ifndef CELISTRA_START_GATE_H
#define CELISTRA_START_GATE_H

/* In the top process, before its child exists. */
void start_gate_create(void);

/* In the top process's child (the init, or the command's process without namespaces),
 * first thing: drop its copy of the end the top process closes. */
void start_gate_join(void);

/* In the top process, once the command may start. */
void start_gate_open(void);

/* In the command's process, before its exec. */
void start_gate_wait(void);

#endif
