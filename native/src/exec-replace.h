/*
 * Handing `celistra run`'s process (Node) over to celistra-exec: see exec-replace.c.
 */
#ifndef CELISTRA_EXEC_REPLACE_H
#define CELISTRA_EXEC_REPLACE_H

/*
 * Starts `file` (celistra-exec) with `argv` in a child, then execs this process into
 * `file --wait-for <child>`. Only returns on failure, with errno set and no child left.
 */
int replace_with_helper(const char *file, char *const argv[], char *const envp[], const char *cwd);

#endif
