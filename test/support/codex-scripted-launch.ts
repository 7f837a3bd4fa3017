/**
 * How to run the real `codex` (npm @openai/codex 0.169) against the scripted model
 * (scripted-openai-responses.ts), fenced by Celistra's codex preset. docs/presets.md
 * (codex part) explains each choice; in short:
 *
 * - The provider is given on the command line (`-c key=value`), not in config.toml: under
 *   the preset, `$CODEX_HOME/config.toml` is a read-only seeded file, and `-c` overrides
 *   are layered on top of it by codex itself. Codex accepts a custom `base_url` only with
 *   `wire_api = "responses"`.
 * - Codex knows nothing about an unknown model's tools; a model catalog (`model_catalog_json`,
 *   a file codex reads at start) gives it metadata asking for the freeform `apply_patch`
 *   tool, as codex's own models do. Without it codex falls back to shell tools only.
 * - No sandbox flag: the codex preset's config.toml sets `sandbox_mode = "danger-full-access"`,
 *   because codex's own per-command sandbox (its bundled bwrap, in a new user namespace)
 *   cannot start inside Celistra's fence and would fail every command. The tests thereby
 *   prove that a plain `codex exec` works under the preset. Without the preset, pass
 *   `-s danger-full-access` yourself. Exec mode never asks for approvals.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The model slug the scripted provider answers as. */
export const SCRIPTED_MODEL = 'scripted-model';

/**
 * A model catalog with the one scripted model. Every field below is required by codex
 * 0.169's catalog parser (found by feeding it a catalog and reading its errors);
 * `apply_patch_tool_type: "freeform"` is what gives the model the `apply_patch` tool.
 */
export function scriptedModelCatalog(): unknown {
  return {
    models: [
      {
        slug: SCRIPTED_MODEL,
        display_name: 'Scripted model',
        description: 'A scripted model for tests (Celistra test support)',
        base_instructions: 'You are a scripted test model.',
        apply_patch_tool_type: 'freeform',
        shell_type: 'shell_command',
        experimental_supported_tools: [],
        visibility: 'list',
        supported_in_api: true,
        priority: 1,
        context_window: 200_000,
        default_reasoning_level: 'low',
        supported_reasoning_levels: [{ effort: 'low', description: 'low' }],
        truncation_policy: { mode: 'tokens', limit: 10_000 },
        input_modalities: ['text'],
        supports_parallel_tool_calls: false,
        support_verbosity: false,
      },
    ],
  };
}

/** Writes the catalog into `dir` (which the fenced codex must be able to read) and returns its path. */
export function writeScriptedModelCatalog(dir: string): string {
  const path = join(dir, 'scripted-model-catalog.json');
  writeFileSync(path, JSON.stringify(scriptedModelCatalog(), null, 2));
  return path;
}

/** A TOML basic string. */
function tomlString(s: string): string {
  return JSON.stringify(s);
}

/**
 * The `-c` overrides that point codex at the scripted model: a custom provider (no
 * credentials: the scripted server asks for none), no retries (a failure shows at once,
 * not after codex's backoff), and the catalog.
 */
export function scriptedProviderOverrides(baseUrl: string, catalogPath: string): string[] {
  const provider = `{ name = "scripted", base_url = ${tomlString(baseUrl)}, wire_api = "responses", request_max_retries = 0, stream_max_retries = 0 }`;
  return ['-c', 'model_provider="scripted"', '-c', `model_providers.scripted=${provider}`, '-c', `model_catalog_json=${tomlString(catalogPath)}`, '-m', SCRIPTED_MODEL];
}

/**
 * `codex exec` argv (after the codex binary) for one task in `workdir`, answered by the
 * scripted model; `extra` goes before the prompt (`-s danger-full-access` without the
 * preset). `--ephemeral` is not used: the session files are part of what the preset must
 * let codex write.
 */
export function codexExecArgs(opts: { baseUrl: string; catalogPath: string; workdir: string; prompt: string; extra?: string[] }): string[] {
  return ['exec', '-C', opts.workdir, ...scriptedProviderOverrides(opts.baseUrl, opts.catalogPath), ...(opts.extra ?? []), opts.prompt];
}
