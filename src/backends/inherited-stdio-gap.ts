/**
 * Why files the caller redirected stdin, stdout or stderr from or to stay changeable
 * through those descriptors on Linux (docs/security.md, "Inherited stdio"). Appending
 * to a redirected log is the expected use; the rest is this gap.
 */
export const INHERITED_STDIO_GAP =
  "a file the caller redirected stdio from or to is the caller's own open file: the command can fchmod, fchown (to itself), futimens, fsetxattr and (if it was opened for writing) ftruncate or overwrite it, since those check the file's original writable mount and its owner, which the fence's mounts and Landlock do not reach";
