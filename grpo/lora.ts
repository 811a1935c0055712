// LoRA hot-load into vLLM (trainer-contract §9): load `policy@<version>` from the published adapter path, sample from it.
import { PipelineError } from '../pipeline/errors.ts';

/** Returns the served model name to request from now on. */
export async function loadLoraAdapter(baseUrl: string, name: string, adapterPath: string, signal?: AbortSignal): Promise<string> {
  const root = baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  const res = await fetch(`${root}/v1/load_lora_adapter`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ lora_name: name, lora_path: adapterPath }),
    ...(signal !== undefined ? { signal } : {}),
  });
  if (!res.ok) {
    throw new PipelineError('server-error', `vLLM refused to load LoRA adapter ${name} from ${adapterPath}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`, {
      hint: 'Start vLLM with --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, or set grpo.policy.loraHotLoad: false.',
    });
  }
  return name;
}
