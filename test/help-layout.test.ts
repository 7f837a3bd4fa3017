import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_HELP_WIDTH, layoutHelp } from '../src/cli/help-layout.js';
import { runCelistra } from './support/celistra-cli.js';

const ESC = '\x1b';
const cyan = (s: string) => `${ESC}[36m${s}${ESC}[39m`;
const LONG = 'path the command may not read (repeatable); credentials (~/.ssh, ~/.aws, ~/.gnupg, ~/.config/gh, ~/.netrc) are always denied';
/** A table as citty renders it: every description padded to the longest one. */
const TABLE = [
  `     ${cyan('--net=<net>')}    ${'network: on | off'.padEnd(LONG.length)}`,
  `  ${cyan('--deny-read=<P>')}    ${LONG}`,
].join('\n');

test('help rows lose the padding to the longest description', () => {
  const out = layoutHelp(TABLE, { width: 200, color: true });
  for (const line of out.split('\n')) assert.doesNotMatch(line, /\s$/, JSON.stringify(line));
  assert.equal(out.split('\n')[0], `     ${cyan('--net=<net>')}    network: on | off`);
});

test('a description longer than the width wraps at spaces, continuing under its own column', () => {
  const lines = layoutHelp(TABLE, { width: 60, color: false }).split('\n');
  const column = '  --deny-read=<P>    '.length;
  assert.ok(lines.length > 2, 'the long row was wrapped');
  for (const line of lines) assert.ok(line.length <= 60, `${line.length} > 60: ${line}`);
  for (const line of lines.slice(2)) assert.equal(line.slice(0, column), ' '.repeat(column), `continuation not under the description: ${line}`);
  const words = lines.slice(1).map((l, i) => (i === 0 ? l.slice(column) : l.trim())).join(' ');
  assert.equal(words, LONG, 'every word kept, in order');
});

test('without a terminal the help is plain text', () => {
  const out = layoutHelp(TABLE, { width: 80, color: false });
  assert.ok(!out.includes(ESC));
  assert.match(out, /^ {5}--net=<net> {4}network: on \| off$/m);
});

test('a row whose name leaves too little room starts its description on the lines below', () => {
  const name = `--${'x'.repeat(60)}`;
  const lines = layoutHelp(`  ${name}    ${LONG}`, { width: 80, color: false }).split('\n');
  assert.equal(lines[0], `  ${name}`);
  for (const line of lines.slice(1)) {
    assert.match(line, /^ {8}\S/);
    assert.ok(line.length <= 80);
  }
});

/** The subcommands a help text lists under COMMANDS. */
function subcommands(help: string): string[] {
  // The rows between the COMMANDS heading and the line that follows them ("Use ...").
  const section = /^COMMANDS\n\n([\s\S]*?)\n\n/m.exec(help)?.[1];
  if (!section) return [];
  return [...section.matchAll(/^ +(\S+) {2,}\S/gm)].map((m) => m[1]!);
}

test(`every command's --help, piped, fits ${DEFAULT_HELP_WIDTH} columns with no trailing spaces and no colour codes`, () => {
  const pending: string[][] = [[]];
  const seen: string[] = [];
  while (pending.length) {
    const cmd = pending.shift()!;
    const r = runCelistra([...cmd, '--help']);
    assert.equal(r.status, 0, `celistra ${cmd.join(' ')} --help: ${r.stderr}`);
    const help = r.stdout.toString();
    assert.ok(!help.includes(ESC), `celistra ${cmd.join(' ')} --help has colour codes in a pipe`);
    for (const line of help.split('\n')) {
      assert.ok(line.length <= DEFAULT_HELP_WIDTH, `celistra ${cmd.join(' ')} --help: ${line.length} columns: ${line}`);
      assert.doesNotMatch(line, /\s$/, `celistra ${cmd.join(' ')} --help: trailing spaces: ${JSON.stringify(line)}`);
    }
    seen.push(cmd.join(' '));
    // Two levels deep (celistra ctl spawn) is all there is: deeper means the walk misread a list.
    if (cmd.length < 2) for (const sub of subcommands(help)) pending.push([...cmd, sub]);
    else assert.deepEqual(subcommands(help), [], `celistra ${cmd.join(' ')} lists subcommands`);
  }
  // The walk reached the nested commands, so the check covered them.
  for (const nested of ['run', 'ctl spawn', 'worktree add', 'daemon start', 'audit verify']) assert.ok(seen.includes(nested), `${nested} --help was not reached (saw: ${seen.join(', ')})`);
});
