{
  "target_defaults": {
    "cflags": ["-Wall", "-Wextra", "-O2"],
    "cflags_c": ["-std=gnu11"]
  },
  "conditions": [
    ["OS=='linux'", {
      "targets": [
        {
          "target_name": "celistra_native",
          "sources": [
            "src/addon.cc",
            "src/exec-replace.c",
            "src/landlock-abi.c",
            "src/user-namespace.c",
            "src/mount-api.c",
            "src/namespace-clone.c",
            "src/namespace-probe.c"
          ],
          "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
          "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"]
        },
        {
          "target_name": "celistra-exec",
          "type": "none",
          "variables": {
            "helper_sources": [
              "src/capabilities.c",
              "src/command-exec.c",
              "src/exec-helper.c",
              "src/exit-report.c",
              "src/helper-exit.c",
              "src/helper-options.c",
              "src/inherited-descriptors.c",
              "src/landlock-abi.c",
              "src/landlock-ruleset.c",
              "src/leftover-processes.c",
              "src/mount-api.c",
              "src/mount-fence.c",
              "src/namespace-clone.c",
              "src/network-namespace.c",
              "src/pid-namespace-init.c",
              "src/run-waiter.c",
              "src/sandbox-init.c",
              "src/seccomp-filter.c",
              "src/signal-name.c",
              "src/signal-relay.c",
              "src/start-gate.c",
              "src/user-namespace.c"
            ]
          },
          "actions": [{
            "action_name": "build_helper",
            "inputs": ["build-helper.sh", "<@(helper_sources)", "<!@(ls src/*.h)"],
            "outputs": ["<(PRODUCT_DIR)/celistra-exec"],
            "action": ["sh", "build-helper.sh", "<(PRODUCT_DIR)/celistra-exec", "<@(helper_sources)"]
          }]
        },
        {
          "target_name": "celistra-audit",
          "type": "executable",
          "sources": [
            "src/audit-netlink.c",
            "src/audit-reader.c"
          ]
        }
      ]
    }, {
      "targets": [
        {
          "target_name": "celistra_native_unsupported",
          "type": "none",
          "actions": [{
            "action_name": "refuse",
            "inputs": [],
            "outputs": ["unsupported"],
            "action": ["sh", "-c", "echo 'celistra: the Landlock addon is Linux-only' >&2; exit 1"]
          }]
        }
      ]
    }]
  ]
}
