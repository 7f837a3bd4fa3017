#!/bin/sh
# Prints the linker flags for celistra-exec: a static PIE where the C library allows one
# (glibc's libc.a, from libc6-dev on Debian), else nothing. The helper starts once per
# fenced command; without the dynamic loader's work it starts about 0.5 ms sooner
# (docs/benchmarks/exec-helper.md). Distributions without a static libc still build a
# working, dynamically linked helper.
out=$(mktemp) || exit 0
if printf 'int main(void){return 0;}\n' | ${CC:-cc} -x c - -static-pie -o "$out" >/dev/null 2>&1 && "$out"; then
  echo -static-pie
fi
rm -f "$out"
