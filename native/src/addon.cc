// celistra_native: what the Landlock backend needs to know about this machine. It
// only probes; the fence itself is applied by celistra-exec in the child process.
#include <napi.h>

extern "C" {
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("probe", Napi::Function::New(env, Probe));
  exports.Set("rightsForAbi", Napi::Function::New(env, RightsForAbi));
  return exports;
}

}  // namespace

NODE_API_MODULE(celistra_native, Init)
