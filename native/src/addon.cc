// celistra_native: what the Landlock backend needs to know about this machine, and the
// exec that turns `celistra run` into celistra-exec. The fence itself is applied by
// celistra-exec, never in the Node process.
#include <napi.h>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <signal.h>
#include <cstdio>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

extern "C" {
#include "exec-replace.h"
#include "landlock-abi.h"
#include "namespace-probe.h"
}

namespace {

Napi::Object LandlockFacts(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  int abi = ll_kernel_abi();
  out.Set("kernelAbi", Napi::Number::New(env, abi));
  out.Set("knownAbi", Napi::Number::New(env, CELISTRA_LANDLOCK_ABI_KNOWN));
  return out;
}

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("landlock", LandlockFacts(env));
  char why[256] = {0};
  bool userns = probe_namespaces(why, sizeof why) == 1;
  out.Set("userNamespaces", Napi::Boolean::New(env, userns));
  if (!userns) out.Set("userNamespacesError", Napi::String::New(env, why));
  out.Set("seccomp", Napi::Boolean::New(env, probe_seccomp() == 1));
  return out;
}

// The rights each ABI handles, from the same table the helper uses.
Napi::Value RightsForAbi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "rightsForAbi(abi: number)").ThrowAsJavaScriptException();
    return env.Null();
  }
  int abi = info[0].As<Napi::Number>().Int32Value();
  Napi::Object out = Napi::Object::New(env);
  out.Set("fs", Napi::Number::New(env, static_cast<double>(ll_fs_rights_for_abi(abi))));
  out.Set("net", Napi::Number::New(env, static_cast<double>(ll_net_rights_for_abi(abi))));
  out.Set("scopes", Napi::Number::New(env, static_cast<double>(ll_scopes_for_abi(abi))));
  return out;
}

std::vector<std::string> Strings(Napi::Env env, const Napi::Value& v, const char* what) {
  std::vector<std::string> out;
  if (!v.IsArray()) {
    Napi::TypeError::New(env, std::string(what) + " must be an array of strings").ThrowAsJavaScriptException();
    return out;
  }
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value item = a.Get(i);
    if (!item.IsString()) {
      Napi::TypeError::New(env, std::string(what) + " must be an array of strings").ThrowAsJavaScriptException();
      return {};
    }
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

// execReplacing(file, argv, env: ["K=V", ...], cwd): hands this process over to celistra-exec
// (exec-replace.c); returns only on failure (throws).
Napi::Value ExecReplacing(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[3].IsString()) {
    Napi::TypeError::New(env, "execReplacing(file, argv, env, cwd)").ThrowAsJavaScriptException();
    return env.Null();
  }
  std::string file = info[0].As<Napi::String>().Utf8Value();
  std::vector<std::string> args = Strings(env, info[1], "argv");
  if (env.IsExceptionPending()) return env.Null();
  std::vector<std::string> vars = Strings(env, info[2], "env");
  if (env.IsExceptionPending()) return env.Null();
  std::string cwd = info[3].As<Napi::String>().Utf8Value();
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  replace_with_helper(file.c_str(), argv.data(), envp.data(), cwd.c_str());
  Napi::Error::New(env, std::string("cannot run ") + file + ": " + std::strerror(errno)).ThrowAsJavaScriptException();
  return env.Null();
}

// peerCredentials(fd): {uid, gid, pid} of the process at the other end of a connected
// unix socket (SO_PEERCRED), taken by the kernel at connect/listen time, so a client can
// tell that the daemon it reached runs as the user it expects.
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "peerCredentials(fd)").ThrowAsJavaScriptException();
    return env.Null();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
    Napi::Error::New(env, std::string("cannot read the socket's peer credentials: ") + std::strerror(errno)).ThrowAsJavaScriptException();
    return env.Null();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("uid", Napi::Number::New(env, cred.uid));
  out.Set("gid", Napi::Number::New(env, cred.gid));
  out.Set("pid", Napi::Number::New(env, cred.pid));
  return out;
}

// pipe(): [readFd, writeFd], both close-on-exec. `celistra run` hands a fenced command a
// pipe instead of a file it redirected stdio from or to (src/core/launch-stdio-relay.ts);
// Node has no pipe of its own (its child stdio pipes are socket pairs, and one per
// descriptor, while stdout and stderr into one file must share one to keep their order).
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    Napi::Error::New(env, std::string("cannot create a pipe: ") + std::strerror(errno)).ThrowAsJavaScriptException();
    return env.Null();
  }
  // A larger buffer lets the command run ahead of the relay's reads; best effort (an
  // unprivileged caller may not exceed /proc/sys/fs/pipe-max-size, 1 MiB by default).
  fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, fds[0]));
  out.Set(1u, Napi::Number::New(env, fds[1]));
  return out;
}

// emptyStdin(): descriptor 0 becomes the read end of a pipe whose write end is closed, so
// it reads end of file at once, as /dev/null does, without being the host's /dev/null
// (which a root command could chmod through its stdin). Used just before the exec
// hand-over, where no relay runs (src/core/launch-exec.ts).
Napi::Value EmptyStdin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0 || close(fds[1]) != 0 || dup2(fds[0], 0) != 0 || close(fds[0]) != 0) {
    Napi::Error::New(env, std::string("cannot give stdin an empty pipe: ") + std::strerror(errno)).ThrowAsJavaScriptException();
    return env.Null();
  }
  return env.Undefined();
}

// pipeUnread(fd): how many bytes the pipe behind fd holds that its reader has not read yet
// (FIONREAD, which Linux answers on either end of a pipe). The relay of a terminal stdin
// reads the terminal again only once the command has taken what it was given, so what
// the user types ahead for their shell stays in the terminal (src/run/terminal-stdin.ts).
Napi::Value PipeUnread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "pipeUnread(fd)").ThrowAsJavaScriptException();
    return env.Null();
  }
  int n = 0;
  if (ioctl(info[0].As<Napi::Number>().Int32Value(), FIONREAD, &n) != 0) {
    Napi::Error::New(env, std::string("cannot ask a pipe how much it holds: ") + std::strerror(errno)).ThrowAsJavaScriptException();
    return env.Null();
  }
  return Napi::Number::New(env, n);
}

// becomeSubreaper(): PR_SET_CHILD_SUBREAPER for this process. A `celistra run` that stays
// in Node under Landlock without namespaces calls it before it spawns the helper: if the
// helper alone dies (SIGKILL from outside), what the command left running (setsid, double
// forks) is reparented to this process instead of the host's init, and endOrphans() ends
// it (src/run/orphans.ts).
Napi::Value BecomeSubreaper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    Napi::Error::New(env, std::string("cannot become a child subreaper: ") + std::strerror(errno)).ThrowAsJavaScriptException();
    return env.Null();
  }
  return env.Undefined();
}

// endOrphans(ms): SIGKILL and reap every child of this process's main thread, again and
// again (killing one reparents its own children here) until none is left, for at most
// `ms` milliseconds (default 10 000): bounded by time, not by rounds, so a fork bomb's
// leftovers, which refill the list as fast as it is emptied, are ended too. A child that
// leads its own process group (setsid, setpgid) has the whole group killed with it, which
// reaches its descendants before they are reparented here; a group it merely joined is
// never signalled (it could be one of the host's). Returns how many children were ended.
// Called only once the run's own child (the helper) has been reaped, so every child left
// is one the command left behind. Each is reaped by its pid (never waitpid(-1), which
// could take a child libuv waits for).
static long long MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

Napi::Value EndOrphans(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  long long budget = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int64Value() : 10000;
  long long deadline = MonotonicMs() + budget;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
  int ended = 0;
  for (;;) {
    FILE* f = fopen(path, "re");
    if (f == nullptr) {
      Napi::Error::New(env, std::string("cannot list this process's children: ") + std::strerror(errno)).ThrowAsJavaScriptException();
      return env.Null();
    }
    std::vector<int> pids;
    int pid;
    while (fscanf(f, "%d", &pid) == 1) pids.push_back(pid);
    fclose(f);
    if (pids.empty() || MonotonicMs() > deadline) break;
    for (int p : pids) {
      if (getpgid(p) == p) kill(-p, SIGKILL);
      kill(p, SIGKILL);
    }
    for (int p : pids) {
      while (waitpid(p, nullptr, 0) < 0 && errno == EINTR) {
      }
      ended++;
    }
  }
  return Napi::Number::New(env, ended);
}

// lowerProcessLimit(n): sets this process's RLIMIT_NPROC, soft and hard, to n (or to its
// hard limit, when that is lower: it cannot be raised) and returns the value set. What the
// process starts afterwards inherits it: `celistra run` bounds the command it hands itself
// over to this way (src/core/limits-launch.ts), with no shell in front of it.
Napi::Value LowerProcessLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "lowerProcessLimit(n)").ThrowAsJavaScriptException();
    return env.Null();
  }
  double wanted = info[0].As<Napi::Number>().DoubleValue();
  struct rlimit now;
  if (wanted < 1 || getrlimit(RLIMIT_NPROC, &now) != 0) {
    Napi::Error::New(env, std::string("cannot read RLIMIT_NPROC: ") + std::strerror(errno)).ThrowAsJavaScriptException();
    return env.Null();
  }
  rlim_t value = static_cast<rlim_t>(wanted);
  if (now.rlim_max != RLIM_INFINITY && now.rlim_max < value) value = now.rlim_max;
  struct rlimit next = {value, value};
  if (setrlimit(RLIMIT_NPROC, &next) != 0) {
    Napi::Error::New(env, std::string("cannot set RLIMIT_NPROC: ") + std::strerror(errno)).ThrowAsJavaScriptException();
    return env.Null();
  }
  return Napi::Number::New(env, static_cast<double>(value));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("emptyStdin", Napi::Function::New(env, EmptyStdin));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("pipeUnread", Napi::Function::New(env, PipeUnread));
  exports.Set("becomeSubreaper", Napi::Function::New(env, BecomeSubreaper));
  exports.Set("endOrphans", Napi::Function::New(env, EndOrphans));
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials));
  exports.Set("execReplacing", Napi::Function::New(env, ExecReplacing));
  exports.Set("probe", Napi::Function::New(env, Probe));
  exports.Set("rightsForAbi", Napi::Function::New(env, RightsForAbi));
  exports.Set("lowerProcessLimit", Napi::Function::New(env, LowerProcessLimit));
  return exports;
}

}  // namespace

NODE_API_MODULE(celistra_native, Init)
