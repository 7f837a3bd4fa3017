import { defineCommand, renderUsage, runCommand, runMain, type CommandDef } from 'citty';
import { EXIT_CODES_HELP } from './exit-codes.js';
import { exitWithUsageError } from './command.js';
import { layoutHelp, stdoutHelpLayout } from './help-layout.js';

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
    ctl: lazy(() => import('./ctl/index.js')),
    worktree: lazy(() => import('./worktree.js')),
    diff: lazy(() => import('./diff.js')),
    pull: lazy(() => import('./pull.js')),
    history: lazy(() => import('./history.js')),
    audit: lazy(() => import('./audit.js')),
    demo: lazy(() => import('./demo.js')),
    ask: lazy(() => import('./ask.js')),
    approvals: lazy(() => import('./approvals.js')),
    approve: lazy(() => import('./approve.js')),
    deny: lazy(() => import('./deny.js')),
    dashboard: lazy(() => import('./dashboard.js')),
  },
});

async function usageWithExitCodes(cmd: CommandDef<any>, parent?: CommandDef<any>): Promise<void> {
  const usage = await renderUsage(cmd, parent);
  process.stdout.write(`${layoutHelp(`${usage}\n\n${EXIT_CODES_HELP}`, stdoutHelpLayout())}\n`);
}

const rawArgs = process.argv.slice(2);
// Flags after `--` belong to the fenced command (`celistra run ... -- grep --help`), so
// only Celistra's own part decides whether help was asked for.
const dash = rawArgs.indexOf('--');
const own = dash === -1 ? rawArgs : rawArgs.slice(0, dash);
const asksHelpOrVersion = own.length === 0 || own.some((a) => a === '--help' || a === '-h') || (own.length === 1 && (own[0] === '--version' || own[0] === '-v'));

if (asksHelpOrVersion) {
  await runMain(main, { rawArgs: own, showUsage: usageWithExitCodes });
} else {
  try {
    await runCommand(main, { rawArgs });
  } catch (e) {
    exitWithUsageError(e, 'celistra --help lists the commands; every command has --help');
  }
}
