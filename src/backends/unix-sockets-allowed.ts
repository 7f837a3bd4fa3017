/**
 * Said for every run whose policy allows unix sockets (`--allow-unix-sockets`) on a backend
 * that would otherwise refuse them: the plan's `degraded` entry for pathname-unix (and
 * abstract-unix where only the socket rule closed those).
 */
export const UNIX_SOCKETS_ALLOWED_REASON =
  'the run allows unix sockets (--allow-unix-sockets): the agent can connect to every socket it can see (Docker, ssh-agent, D-Bus); drop the flag to refuse them';
