#include "helper-options.h"

#include <stdlib.h>
#include <string.h>

#include "helper-exit.h"

static int takes_value(const char *option) {
  static const char *const with_value[] = {"--net", "--abi-cap", "--write", "--tmp", "--read-only", "--deny-read", "--keep-tmp", "--spool", "--audit-agent-json", "--started-ms", "--probe-cache", "--seccomp-filter", NULL};
  for (const char *const *o = with_value; *o; o++) {
    if (strcmp(option, *o) == 0) return 1;
  }
  return 0;
}

static void push(struct path_list *list, const char *path, int capacity) {
  if (path[0] != '/') helper_fail(HELPER_EXIT_USAGE, 0, "path must be absolute: %s", path);
  if (list->items == NULL) {
    list->items = calloc((size_t)capacity, sizeof *list->items);
    if (list->items == NULL) helper_fail(HELPER_EXIT_USAGE, 1, "out of memory");
  }
  list->items[list->count++] = path;
}

void parse_helper_options(int argc, char **argv, struct helper_options *out) {
  memset(out, 0, sizeof *out);
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    } else if (strcmp(a, "--namespaces") == 0) {
      out->namespaces = 1;
    } else if (strcmp(a, "--new-session") == 0) {
      out->new_session = 1;
    } else if (strcmp(a, "--remove-tmp") == 0) {
      out->remove_tmp = 1;
    } else if (strcmp(a, "--signals-via-parent") == 0) {
      out->signals_via_parent = 1;
    } else if (!takes_value(a)) {
      helper_fail(HELPER_EXIT_USAGE, 0, "unknown option %s (usage: celistra-exec [options] -- COMMAND [ARGS...])", a);
    } else if (value == NULL) {
      helper_fail(HELPER_EXIT_USAGE, 0, "%s needs a value", a);
    } else if (strcmp(a, "--net") == 0) {
      if (strcmp(value, "off") == 0) out->network_off = 1;
      else if (strcmp(value, "on") != 0) helper_fail(HELPER_EXIT_USAGE, 0, "--net must be on or off, not %s", value);
      i++;
    } else if (strcmp(a, "--abi-cap") == 0) {
      char *end;
      long n = strtol(value, &end, 10);
      if (*end != '\0' || n < 1 || n > 1000) helper_fail(HELPER_EXIT_USAGE, 0, "--abi-cap needs a positive number, not %s", value);
      out->abi_cap = (int)n;
      i++;
    } else if (strcmp(a, "--write") == 0) {
      push(&out->write, value, argc);
      i++;
    } else if (strcmp(a, "--tmp") == 0) {
      if (value[0] != '/') helper_fail(HELPER_EXIT_USAGE, 0, "path must be absolute: %s", value);
      out->tmp = value;
      i++;
    } else if (strcmp(a, "--read-only") == 0) {
      push(&out->read_only, value, argc);
      i++;
    } else if (strcmp(a, "--deny-read") == 0) {
      push(&out->deny_read, value, argc);
      i++;
    } else if (strcmp(a, "--spool") == 0 || strcmp(a, "--probe-cache") == 0) {
      if (value[0] != '/') helper_fail(HELPER_EXIT_USAGE, 0, "path must be absolute: %s", value);
      if (strcmp(a, "--spool") == 0) out->spool = value;
      else out->probe_cache = value;
      i++;
    } else if (strcmp(a, "--audit-agent-json") == 0) {
      if (value[0] != '"' || strlen(value) > 4096) helper_fail(HELPER_EXIT_USAGE, 0, "--audit-agent-json needs a JSON string");
      out->audit_agent_json = value;
      i++;
    } else if (strcmp(a, "--started-ms") == 0) {
      char *end;
      long long ms = strtoll(value, &end, 10);
      if (*end != '\0' || ms <= 0) helper_fail(HELPER_EXIT_USAGE, 0, "--started-ms needs a time in ms, not %s", value);
      out->started_ms = ms;
      i++;
    } else if (strcmp(a, "--seccomp-filter") == 0) {
      if (out->seccomp.length != 0) helper_fail(HELPER_EXIT_USAGE, 0, "--seccomp-filter given twice");
      parse_seccomp_program(value, &out->seccomp);
      i++;
    } else if (strcmp(a, "--keep-tmp") == 0) {
      /* Exactly /tmp/<name>: anything wider would show the host's whole /tmp. */
      const char *name = strncmp(value, "/tmp/", 5) == 0 ? value + 5 : "";
      if (name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        helper_fail(HELPER_EXIT_USAGE, 0, "--keep-tmp must name an entry directly in /tmp, not %s", value);
      }
      push(&out->keep_tmp, value, argc);
      i++;
    }
  }
  if (i >= argc) helper_fail(HELPER_EXIT_USAGE, 0, "no command after --");
  if (out->write.count == 0) helper_fail(HELPER_EXIT_USAGE, 0, "at least one --write directory (the workspace) is required");
  if (out->spool && (!out->audit_agent_json || out->started_ms == 0)) helper_fail(HELPER_EXIT_USAGE, 0, "--spool needs --audit-agent-json and --started-ms");
  out->command = argv + i;
}

int path_within(const char *inner, const char *outer) {
  size_t n = strlen(outer);
  if (n == 1 && outer[0] == '/') return 1;
  if (strncmp(inner, outer, n) != 0) return 0;
  return inner[n] == '\0' || inner[n] == '/';
}
