import { lstatSync, type Stats } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import { nativeBuild } from '../backends/landlock/native-addon.js';
import { unreachable } from './unreachable.js';

/**
 * The client's side of "only you can be your daemon" (issue 19, class 2). The daemon
 * checks its runtime dir when it starts; the client checks, before it sends anything,
 * that what it is about to talk to could only have been set up by the same user:
 *
 * - the runtime dir is a real directory (not a link), owned by us, mode 0700;
 * - its parent cannot be used by another user to swap it: owned by us or root, and
 *   not writable by others unless sticky (/tmp, where only the owner may rename ours);
 * - the socket is a socket (not a link) owned by us;
 * - on Linux, the process that listens on it runs as us (SO_PEERCRED, via the addon).
 */
export class UntrustedSocketError extends CelistraError {
  constructor(message: string) {
    super('E_DAEMON', message, 'another user may be impersonating the daemon: do not use this socket; set XDG_RUNTIME_DIR to a directory only you own, or remove the impostor');
  }
}

function myUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

function describeOwner(st: Stats): string {
  return `owned by uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}`;
}

/** Throws unless `dir` is a private runtime dir of ours in a parent nobody else can swap it in. */
export function checkRuntimeDir(dir: string): void {
  const uid = myUid();
  if (uid === undefined) return;
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // nothing there: "not running", said by the connect
    throw e;
  }
  if (st.isSymbolicLink()) throw new UntrustedSocketError(`the runtime dir ${dir} is a symbolic link`);
  if (!st.isDirectory()) throw new UntrustedSocketError(`the runtime dir ${dir} is not a directory`);
  if (st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new UntrustedSocketError(`the runtime dir ${dir} is not private to you (${describeOwner(st)}; expected uid ${uid}, 0700)`);
  }
  const parent = dirname(dir);
  const pst = lstatSync(parent);
  const othersMayWrite = (pst.mode & 0o022) !== 0 && (pst.mode & 0o1000) === 0;
  if ((pst.uid !== uid && pst.uid !== 0) || othersMayWrite || !pst.isDirectory()) {
    throw new UntrustedSocketError(`the runtime dir's parent ${parent} lets another user replace it (${describeOwner(pst)})`);
  }
}

/** Throws unless `path` is a socket of ours (or absent: the connect then says "not running"). */
export function checkSocketFile(path: string): void {
  const uid = myUid();
  if (uid === undefined) return;
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (st.isSymbolicLink()) throw new UntrustedSocketError(`the daemon socket ${path} is a symbolic link`);
  if (!st.isSocket()) throw new UntrustedSocketError(`${path} is not a socket`);
  if (st.uid !== uid) throw new UntrustedSocketError(`the daemon socket ${path} belongs to uid ${st.uid}, not to you (uid ${uid})`);
}

type PeerCredentials = (fd: number) => { uid: number; gid: number; pid: number };
let peerCredentials: PeerCredentials | null | undefined;

/** The addon's SO_PEERCRED reader; null where there is none (not Linux, addon not built). */
function loadPeerCredentials(): PeerCredentials | null {
  if (peerCredentials !== undefined) return peerCredentials;
  peerCredentials = null;
  if (process.platform === 'linux') {
    try {
      const addon: { exports: { peerCredentials?: PeerCredentials } } = { exports: {} };
      process.dlopen(addon, nativeBuild().addonPath);
      if (typeof addon.exports.peerCredentials === 'function') peerCredentials = addon.exports.peerCredentials;
    } catch {
      // No addon: the ownership checks above are what protects this client.
    }
  }
  return peerCredentials;
}

/** The file descriptor under a connected net.Socket (libuv exposes it on Unix). */
function socketFd(sock: Socket): number | undefined {
  const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** Checks the peer of a connected socket; throws when it is another user's process. */
export function checkPeer(sock: Socket, path: string): void {
  const uid = myUid();
  const read = loadPeerCredentials();
  const fd = socketFd(sock);
  if (uid === undefined || !read || fd === undefined) return;
  const peer = read(fd);
  if (peer.uid !== uid) throw new UntrustedSocketError(`the process listening on ${path} (pid ${peer.pid}) runs as uid ${peer.uid}, not as you (uid ${uid})`);
}

/**
 * Connect to the daemon's socket once every check above holds; the socket comes back
 * connected, before anything was written to it.
 */
export function connectTrusted(socketPath: string, what: string): Promise<Socket> {
  try {
    checkRuntimeDir(dirname(socketPath));
    checkSocketFile(socketPath);
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    sock.once('error', (e: NodeJS.ErrnoException) => reject(unreachable(socketPath, e, what)));
    sock.once('connect', () => {
      try {
        checkPeer(sock, socketPath);
      } catch (e) {
        sock.destroy();
        reject(e);
        return;
      }
      resolve(sock);
    });
  });
}
