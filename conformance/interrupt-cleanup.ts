/**
 * What to undo if the run is interrupted (Ctrl-C): stages on disk, victims and
 * listeners. Victims run in their own process groups, so the terminal's SIGINT does
 * not reach them; without this they would outlive the judge.
 */
const pending = new Set<() => void>();

/** Register an undo step; call the returned function once it is no longer needed. */
export function undoOnInterrupt(undo: () => void): () => void {
  pending.add(undo);
  return () => {
    pending.delete(undo);
  };
}

export function undoAll(): void {
  for (const undo of [...pending]) {
    pending.delete(undo);
    try {
      undo();
    } catch {
      // keep undoing the rest
    }
  }
}
