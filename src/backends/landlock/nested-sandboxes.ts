/**
 * Why a sandbox started inside the Landlock fence fails (docs/security.md, "Nested
 * sandboxes under landlock"), in Celistra's words: the tool itself only says `setting up
 * uid map: Read-only file system` (bwrap, Claude Code's sandbox) or `cannot open
 * /proc/self/uid_map` (unshare). Shown by `run --verbose` and `doctor`.
 */
export const NESTED_SANDBOXES_REFUSED =
  "nested sandboxes refused: a user namespace made inside the fence cannot write its uid map (the fence's /proc is read-only, and Landlock grants no write there), so bwrap, unshare -r and Claude Code's own sandbox fail with 'setting up uid map: Read-only file system'; use --backend bwrap (unprivileged) for an agent that sandboxes its own tools, or turn its sandbox off inside the fence";
