// Runs when node-gyp could not build the native addon (no compiler, or macOS without
// the Landlock sources). The package still installs; `celistra doctor` reports what is missing.
process.stderr.write(
  'celistra: the native addon was not built (Landlock backend unavailable). ' +
    'Install a C/C++ toolchain (Debian: apt-get install -y build-essential python3) and run `npm rebuild celistra`. ' +
    '`celistra doctor` shows what each backend needs.\n',
);
