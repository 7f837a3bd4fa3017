/*
 * Replacing the calling process (Node) with celistra-exec: see exec-replace.c.
 */
#ifndef CELISTRA_EXEC_REPLACE_H
#define CELISTRA_EXEC_REPLACE_H

/* Only returns on failure, with errno set. */
int exec_replacing(const char *file, char *const argv[], char *const envp[], const char *cwd);

#endif
