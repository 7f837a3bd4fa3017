import { defineCommand, type CommandDef } from 'citty';

const lazy = (load: () => Promise<{ default: CommandDef<any> }>) => () => load().then((m) => m.default);

export default defineCommand({
  meta: { name: 'ctl', description: 'Control the agents of the running daemon: spawn, ls, attach, logs, send, kill, restart, rm.' },
  subCommands: {
    spawn: lazy(() => import('./ctl-spawn.js')),
    ls: lazy(() => import('./ctl-ls.js')),
    attach: lazy(() => import('./ctl-attach.js')),
    logs: lazy(() => import('./ctl-logs.js')),
    send: lazy(() => import('./ctl-send.js')),
    kill: lazy(() => import('./ctl-kill.js')),
    restart: lazy(() => import('./ctl-restart.js')),
    rm: lazy(() => import('./ctl-rm.js')),
  },
});
