import { defineCommand, type CommandDef } from 'citty';

const lazy = (load: () => Promise<{ default: CommandDef<any> }>) => () => load().then((m) => m.default);

export default defineCommand({
  meta: { name: 'ctl', description: 'Control the agents of the running daemon: spawn, ls, attach, logs, send, kill, restart, rm.' },
  subCommands: {
    spawn: lazy(() => import('./spawn.js')),
    ls: lazy(() => import('./ls.js')),
    attach: lazy(() => import('./attach.js')),
    logs: lazy(() => import('./logs.js')),
    send: lazy(() => import('./send.js')),
    kill: lazy(() => import('./kill.js')),
    restart: lazy(() => import('./restart.js')),
    rm: lazy(() => import('./rm.js')),
  },
});
