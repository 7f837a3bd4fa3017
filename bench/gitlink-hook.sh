#!/bin/sh
# Cost of the task's post-index-change hook (src/worktree/gitlink-hook.ts), which marks
# gitlinks skip-worktree after every index write: median wall time of 15 `git add -A`
# (each writes the index) and of 15 `git checkout -q HEAD~1 && git checkout -q -`, in a
# plain repository of N files (default 10000) with one gitlink, hooks path empty vs the hook, each
# twice in turn after a warm-up (the first runs refresh the index's stat data).
#   sh bench/gitlink-hook.sh [N]          (from a built checkout: node needs dist/)
# Results: docs/benchmarks.md.
set -e
N=${1:-10000}
ROOT=$(pwd)
S=$(mktemp -d /var/tmp/bench-hook.XXXX)
trap 'rm -rf "$S"' EXIT
export HOME=$S GIT_CONFIG_NOSYSTEM=1
git config --global user.name bench
git config --global user.email bench@example.test
mkdir "$S/none" "$S/hook"
node --input-type=module -e "import { GITLINK_HOOK_SCRIPT } from '$ROOT/dist/src/worktree/gitlink-hook.js'; process.stdout.write(GITLINK_HOOK_SCRIPT)" > "$S/hook/post-index-change"
chmod 755 "$S/hook/post-index-change"
mkdir "$S/repo" && cd "$S/repo"
git init -q -b main .
mkdir d; i=0; while [ $i -lt "$N" ]; do echo $i > d/f$i; i=$((i + 1)); done
git init -q sub && (cd sub && echo s > s && git add s && git commit -qm s)
git add -A 2>/dev/null && git commit -qm one && git commit -q --allow-empty -m two
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() {
  for i in $(seq 1 15); do
    s=$(date +%s%N); sh -c "$1" >/dev/null 2>&1 </dev/null; e=$(date +%s%N)
    echo $(((e - s) / 1000000))
  done | median
}
for h in none hook none hook; do
  git config core.hooksPath "$S/$h"
  timed 'git add -A; git status' >/dev/null
  echo "$N files, hooks $h: git add -A $(timed 'git add -A') ms; checkout HEAD~1 and back $(timed 'git checkout -q HEAD~1 && git checkout -q -') ms"
done
