#!/bin/sh
# Cost of pinning submodule names (src/worktree/submodule-pins.ts) and of a task
# worktree's run no longer handing itself over to the exec helper: median wall time of 15
# `celistra run --backend landlock --worktree a -- true` (piped) and of 15 `celistra worktree ls`,
# in a repository of 200 files and 51 commits. Compare two builds side by side:
#   sh bench/worktree-pins.sh /path/to/old/checkout; sh bench/worktree-pins.sh .
# Results: docs/benchmarks.md.
set -e
CLI=$(cd "${1:-.}" && pwd)/bin/celistra.js
S=$(mktemp -d /var/tmp/bench-wt.XXXX)
trap 'rm -rf "$S"' EXIT
export HOME=$S XDG_STATE_HOME=$S/st XDG_CONFIG_HOME=$S/cf XDG_RUNTIME_DIR=$S/run
mkdir -m 700 "$S/run"
git config --global user.name bench
git config --global user.email bench@example.test
mkdir "$S/repo" && cd "$S/repo"
git init -q -b main .
for i in $(seq 1 200); do echo "$i" > "f$i"; done
git add -A && git commit -qm init
for i in $(seq 1 50); do git commit -q --allow-empty -m "c$i"; done
node "$CLI" worktree add a >/dev/null 2>&1
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() {
  for i in $(seq 1 15); do
    s=$(date +%s%N); "$@" >/dev/null 2>&1 </dev/null; e=$(date +%s%N)
    echo $(((e - s) / 1000000))
  done | median
}
echo "run in a task worktree: $(timed node "$CLI" run --backend landlock --worktree a -- true) ms; worktree ls: $(timed node "$CLI" worktree ls) ms"
