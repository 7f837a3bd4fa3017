#!/bin/sh
# Run a command as if this machine had user namespaces disabled, without touching the
# machine's own settings (other jobs share it): the command runs in a user namespace of
# its own, identity-mapped, where user.max_user_namespaces is 0, so neither it nor
# anything it starts can create another. user.max_user_namespaces is per user namespace
# and counts against every ancestor, so the limit holds for its descendants only.
# Needs root (to write the identity map). Usage, as scripts/test.js runs the unprivileged part:
#   scripts/no-userns.sh runuser -u celistra-ci -- env HOME=/home/celistra-ci node dist/src/cli/main.js doctor
set -eu
if [ "$(id -u)" != 0 ]; then echo "no-userns.sh: run as root (it writes the namespace's identity map)" >&2; exit 64; fi
if [ $# -eq 0 ]; then echo "usage: scripts/no-userns.sh COMMAND [ARGS...]" >&2; exit 64; fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/go"
unshare --user sh -c 'read x < "$0" && exec "$@"' "$dir/go" \
  sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"' sh "$@" &
pid=$!
while [ "$(readlink /proc/$pid/ns/user 2>/dev/null)" = "$(readlink /proc/self/ns/user)" ]; do
  kill -0 $pid 2>/dev/null || { wait $pid; exit $?; }
  sleep 0.01
done
echo '0 0 4294967294' > /proc/$pid/uid_map
echo '0 0 4294967294' > /proc/$pid/gid_map
echo go > "$dir/go"
set +e
wait $pid
