import { defineCommand, runMain, type CommandDef } from 'citty';

// Subcommands load lazily so `celistra run` pays only for what it uses: startup time
// is part of every fenced command's cost.
const lazy = (load: () => Promise<{ default: CommandDef<any> }>) => () => load().then((m) => m.default);

const main = defineCommand({
  meta: {
    name: 'celistra',
    version: '0.1.0',
    description: 'Supervise AI coding agents: each in its own git worktree, PTY and kernel sandbox.',
  },
  subCommands: {
    run: lazy(() => import('./run.js')),
    doctor: lazy(() => import('./doctor.js')),
    conformance: lazy(() => import('./conformance.js')),
    daemon: lazy(() => import('./daemon.js')),
    ctl: lazy(() => import('./ctl.js')),
    worktree: lazy(() => import('./worktree.js')),
    diff: lazy(() => import('./diff.js')),
    pull: lazy(() => import('./pull.js')),
    history: lazy(() => import('./history.js')),
    audit: lazy(() => import('./audit.js')),
  },
});

runMain(main);
