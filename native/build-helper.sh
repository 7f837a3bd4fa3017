#!/bin/sh
# Builds celistra-exec (binding.gyp runs it): build-helper.sh OUTPUT SOURCE...
#
# The helper starts once per fenced command, so its start-up is on every run's path:
# - static, so no dynamic loader runs;
# - against musl where musl-gcc is installed (Debian: musl-tools). glibc's start-up reads
#   the CPU's features and caches with dozens of CPUID instructions, each a trap to the
#   hypervisor on a virtual machine (~6 µs here), and faults in more pages: a static
#   program that does nothing took 0.8 ms from fork to exit with glibc, 0.3 ms with musl
#   (docs/benchmarks/exec-helper.md).
# Otherwise (or with CELISTRA_HELPER_LIBC=system) the system compiler: static where its C
# library allows, else dynamic. Every build works; `celistra doctor` names the one made
# (celistra-exec --build).
set -eu
out=$1
shift
flags="-std=gnu11 -O2 -Wall -Wextra"

# musl-gcc sees musl's headers only; the kernel's (linux/, asm/, asm-generic/) are
# libc-neutral, so they are linked into a directory of their own beside the output.
kernel_headers() {
  dir=$1
  multiarch=$(cc -print-multiarch 2>/dev/null || true)
  for base in "/usr/include/$multiarch" /usr/include; do
    if [ -e "$base/asm/types.h" ]; then asm=$base/asm; break; fi
  done
  [ -n "${asm:-}" ] && [ -d /usr/include/linux ] && [ -d /usr/include/asm-generic ] || return 1
  rm -rf "$dir" && mkdir -p "$dir" &&
    ln -s /usr/include/linux "$dir/linux" && ln -s "$asm" "$dir/asm" && ln -s /usr/include/asm-generic "$dir/asm-generic"
}

if [ "${CELISTRA_HELPER_LIBC:-}" != system ] && command -v musl-gcc >/dev/null 2>&1; then
  headers="$(dirname "$out")/musl-kernel-headers"
  if kernel_headers "$headers" &&
    musl-gcc $flags -static -isystem "$headers" -DCELISTRA_HELPER_LINKAGE='"static"' -o "$out" "$@"; then
    exit 0
  fi
  echo "celistra-exec: the musl build failed; building with ${CC:-cc} instead" >&2
fi

cc=${CC:-cc}
probe=$(mktemp)
if printf 'int main(void){return 0;}\n' | $cc -x c - -static-pie -o "$probe" >/dev/null 2>&1 && "$probe"; then
  rm -f "$probe"
  exec $cc $flags -static-pie -DCELISTRA_HELPER_LINKAGE='"static-pie"' -o "$out" "$@"
fi
rm -f "$probe"
exec $cc $flags -DCELISTRA_HELPER_LINKAGE='"dynamic"' -o "$out" "$@"
