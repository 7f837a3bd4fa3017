import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The folders of src/, lowest first: a file may import from its own folder and from
 * folders on earlier lines, never from a later line or another folder on its own line
 * (docs/architecture.md says what each folder holds).
 */
const LAYERS: string[][] = [
  ['lazy', 'text'],
  ['policy'],
  ['fs'],
  ['backends'],
  ['audit'],
  ['run'],
  ['worktree', 'terminal'],
  ['approvals'],
  ['holder'],
  ['daemon'],
  ['demo'],
  ['cli'],
];

const SRC = resolve(import.meta.dirname, '..', '..', 'src');
const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.\.?\/[^'"]+)['"]/g;
/** `import type { X } from '...'` / `export type { X } from '...'`: erased when compiled. */
const TYPE_ONLY = /\b(?:import|export)\s+type\s+[^;'"]*?\bfrom\s+['"](\.\.?\/[^'"]+)['"]/g;

type Graph = Map<string, string[]>;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/**
 * Each source file (relative to src/) and the source files it imports. The layers count
 * type-only imports too (they are part of the design); cycles count only what is loaded
 * at run time.
 */
function importGraph(opts: { typeOnly: boolean }): Graph {
  const graph: Graph = new Map();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    const erased = new Set([...text.matchAll(TYPE_ONLY)].map((m) => m.index! + m[0].length));
    const targets: string[] = [];
    for (const m of text.matchAll(SPECIFIER)) {
      if (!opts.typeOnly && erased.has(m.index! + m[0].length)) continue;
      const target = resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts');
      if (target.startsWith(SRC + sep)) targets.push(relative(SRC, target));
    }
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

const folderOf = (file: string): string => file.split(sep)[0]!;
const rankOf = (folder: string): number => LAYERS.findIndex((layer) => layer.includes(folder));

/** Imports into a folder on the same line or a later one. */
function upwardImports(graph: Graph): string[] {
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    const from = folderOf(file);
    for (const target of targets) {
      const to = folderOf(target);
      if (to !== from && rankOf(to) >= rankOf(from)) wrong.push(`${file} -> ${target}`);
    }
  }
  return wrong;
}

function cycles(graph: Graph): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const found: string[] = [];
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      found.push([...path.slice(path.indexOf(file)), file].join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const t of graph.get(file) ?? []) visit(t, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  return found;
}

test('every folder of src/ has a place in the layers, and no file lies loose in src/', () => {
  const entries = readdirSync(SRC);
  const folders = entries.filter((n) => statSync(join(SRC, n)).isDirectory());
  assert.deepEqual(folders.filter((f) => rankOf(f) < 0), [], 'a folder missing from LAYERS (and from docs/architecture.md)');
  assert.deepEqual(entries.filter((n) => !folders.includes(n)), []);
});

test('imports point down the layers, never up or sideways', () => {
  assert.deepEqual(upwardImports(importGraph({ typeOnly: true })), []);
});

test('no import cycle between files (at run time)', () => {
  assert.deepEqual(cycles(importGraph({ typeOnly: false })), []);
});

test('the checks catch an upward import and a cycle', () => {
  const j = (...p: string[]) => p.join(sep);
  const bad: Graph = new Map([
    [j('policy', 'policy.ts'), [j('daemon', 'supervisor.ts')]],
    [j('daemon', 'supervisor.ts'), [j('policy', 'policy.ts')]],
    [j('cli', 'run.ts'), [j('policy', 'policy.ts')]],
  ]);
  assert.deepEqual(upwardImports(bad), [`${j('policy', 'policy.ts')} -> ${j('daemon', 'supervisor.ts')}`]);
  assert.equal(cycles(bad).length, 1);
  // Sideways: two folders on one line.
  assert.deepEqual(upwardImports(new Map([[j('worktree', 'a.ts'), [j('terminal', 'b.ts')]]])).length, 1);
});
