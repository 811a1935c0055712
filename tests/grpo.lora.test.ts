// LoRA hot-load: the adapter a trainer publishes is loaded into the server (vLLM's /v1/load_lora_adapter) under policy@<version>.
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadLoraAdapter } from '../grpo/lora.ts';

describe('loadLoraAdapter', () => {
  it('posts the adapter to vLLM and names the model policy@<version>; a refusal is an error with a hint', async () => {
    const seen: Array<{ url: string; body: unknown }> = [];
    let refuse = false;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', body: JSON.parse(body) as unknown });
        res.statusCode = refuse ? 400 : 200;
        res.end(refuse ? 'lora disabled' : 'ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
    try {
      expect(await loadLoraAdapter(base, 'policy@3', '/ckpt/step=3')).toBe('policy@3');
      expect(seen).toEqual([{ url: '/v1/load_lora_adapter', body: { lora_name: 'policy@3', lora_path: '/ckpt/step=3' } }]);
      refuse = true;
      await expect(loadLoraAdapter(base, 'policy@4', '/ckpt/step=4')).rejects.toMatchObject({ code: 'server-error', hint: expect.stringContaining('--enable-lora') });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
