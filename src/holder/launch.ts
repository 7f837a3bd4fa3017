import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CelistraError } from '../policy/errors.js';
import type { CelistraPaths } from '../policy/paths.js';
import { holderFiles, holdersDir, type HolderConfig } from './config.js';

const HOLDER_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** Holders are small: a low heap limit keeps 100 idle agents cheap. */
const HOLDER_NODE_FLAGS = ['--max-old-space-size=64', '--max-semi-space-size=1'];

/** sun_path is 108 bytes on Linux, including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

export interface StartedHolder {
  pid: number;
  holderPid: number;
}

/**
 * Start a holder for one agent run, detached in its own session so it outlives the
 * daemon, and wait until it listens (or says why it could not).
 */
export async function launchHolder(paths: CelistraPaths, config: Omit<HolderConfig, 'socketPath' | 'exitPath'>, timeoutMs = 10_000): Promise<StartedHolder> {
  mkdirSync(holdersDir(paths), { recursive: true, mode: 0o700 });
  const files = holderFiles(paths, config.runId);
  if (Buffer.byteLength(files.socketPath) > MAX_SOCKET_PATH) {
    throw new CelistraError('E_SPAWN', `the holder socket path ${files.socketPath} is longer than unix sockets allow (${MAX_SOCKET_PATH} bytes)`, 'set XDG_RUNTIME_DIR to a shorter directory');
  }
  const full: HolderConfig = { ...config, socketPath: files.socketPath, exitPath: files.exitPath };
  writeFileSync(files.configPath, JSON.stringify(full), { mode: 0o600 });
  const log = openSync(files.logPath, 'a', 0o600);
  const child = spawn(process.execPath, [...HOLDER_NODE_FLAGS, HOLDER_MAIN, files.configPath], {
    detached: true,
    stdio: ['ignore', 'ignore', log, 'pipe'],
    env: {},
  });
  closeSync(log);
  const readyPipe = child.stdio[3] as NodeJS.ReadableStream;
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new CelistraError('E_SPAWN', `the holder for ${config.agent} did not start within ${timeoutMs} ms (see ${files.logPath})`)), timeoutMs);
      readyPipe.on('data', (d: Buffer) => {
        text += d.toString();
      });
      readyPipe.on('end', () => {
        clearTimeout(timer);
        resolve(text);
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new CelistraError('E_SPAWN', `could not start the holder for ${config.agent}: ${e.message}`));
      });
    });
    let msg: { ok?: boolean; error?: string; pid?: number; holderPid?: number };
    try {
      msg = JSON.parse(line);
    } catch {
      throw new CelistraError('E_SPAWN', `the holder for ${config.agent} exited before it was ready (see ${files.logPath})`);
    }
    if (!msg.ok) throw new CelistraError('E_SPAWN', `could not start ${config.plan.file}: ${msg.error ?? 'unknown error'}`);
    return { pid: msg.pid!, holderPid: msg.holderPid! };
  } catch (e) {
    // A holder that is late or confused is not left to run an agent nobody supervises
    // (the exec helper dies with it).
    child.kill('SIGKILL');
    throw e;
  } finally {
    (readyPipe as unknown as { destroy(): void }).destroy();
    child.unref();
  }
}
