import xtermHeadless from '@xterm/headless';
import { SerializeAddon } from '@xterm/addon-serialize';

/**
 * What a terminal of cols × rows shows after `chunks`, parsed by a fresh terminal that is
 * never resized: the reference a screen model's snapshot is compared against.
 */
export function referenceScreen(cols: number, rows: number, chunks: Array<string | Uint8Array>): Promise<string> {
  const term = new xtermHeadless.Terminal({ cols, rows, scrollback: 0, allowProposedApi: true });
  const serializer = new SerializeAddon();
  term.loadAddon(serializer);
  for (const c of chunks) term.write(c);
  return new Promise((resolve) =>
    term.write('', () => {
      resolve(serializer.serialize({ scrollback: 0 }));
      term.dispose();
    }),
  );
}
