import { allGaps, type Backend, type Capabilities, type LaunchPlan } from '../backend.js';
import type { Policy } from '../../policy/policy.js';

/** No fence at all. Only ever chosen explicitly with `--backend none`; always warned and audited. */
export const noneBackend: Backend = {
  name: 'none',
  probe(): Capabilities {
    return {
      backend: 'none',
      available: true,
      details: {},
      guarantees: allGaps('no sandbox: --backend none runs the command unconfined'),
    };
  },
  plan(policy: Policy, argv: string[], baseEnv: Record<string, string>): LaunchPlan {
    return {
      backend: 'none',
      file: argv[0]!,
      args: argv.slice(1),
      env: { ...baseEnv, ...policy.env },
      cwd: policy.workspace,
      notes: ['UNSANDBOXED: the command can read and write anything you can'],
    };
  },
};
