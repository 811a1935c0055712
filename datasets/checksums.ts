// Pinned sha256 of every benchmark file described in ../shared/datasets/README.txt, and a streaming check of a file against one.
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { PipelineError } from '../pipeline/errors.ts';
import { MISSING_HINT } from './data-files.ts';

export interface PinnedFile {
  file: string;
  /** sha256 of the file as stored (for .gz, the compressed bytes). */
  sha256: string;
  /** sha256 of the decompressed content, for .gz files, where README.txt gives it. */
  rawSha256?: string;
  /** Size in bytes, where known. */
  bytes?: number;
  /** Rows (JSONL lines / array elements / text lines / JSON keys). */
  records: number;
  /** Whether the staged folder holds it (README.txt describes the EvalPlus Mini / NoExtreme variants but does not stage them). */
  staged: boolean;
}

/** Copied from ../shared/datasets/README.txt; each staged file was re-hashed when this table was written. */
export const PINNED_FILES: readonly PinnedFile[] = [
  { file: 'HumanEval.jsonl.gz', sha256: 'b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef', rawSha256: '1d49078ba3e2b196b9344535bef34a43021f038fad9561d6ee7c53450609a6a2', bytes: 44_877, records: 164, staged: true },
  { file: 'HumanEvalPlus-v0.1.10.jsonl.gz', sha256: '272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101', rawSha256: '42526ec0e7d5f3ee0b06d6ced98f8c8bae3d76519151bfb3d36f79010645bd7f', bytes: 925_932, records: 164, staged: true },
  { file: 'HumanEvalPlus-Mini-v0.1.10.jsonl.gz', sha256: '91486741f1627101021fbe50523df08eebb5b0bf5e804b633dcd5ca3c14dbd2f', rawSha256: '78fbba8865b20c5a979cda6e02fd72538e1762e65980af7d1a6e93c3e87e93af', records: 164, staged: false },
  { file: 'HumanEvalPlus-NoExtreme-v0.1.10.jsonl.gz', sha256: '298f79977b2663b8b8ab6b5fa50b17d6f23a92603d24f39e26203fe58c37eeda', rawSha256: '3c5aa88735e442f327030f7097f9443ee173419e0db2a75b1c12730415398e88', records: 164, staged: false },
  { file: 'HumanEvalPlus-OriginFmt-v0.1.10.jsonl.gz', sha256: 'daa7661c8189924068069b0872a440b491edb60f8bdf431d5957adc88d18bae5', rawSha256: '04228b8a570ff7c346c740b91f0c6a0b323f86a26e903db8477c6f2d10f38819', bytes: 1_350_689, records: 164, staged: true },
  { file: 'MbppPlus-v0.2.0.jsonl.gz', sha256: 'af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63', rawSha256: 'b54e762755248ca411b523c917fa9f93c07b5ff2966bf60b3917b853926a3dad', bytes: 336_032, records: 378, staged: true },
  { file: 'MbppPlus-NoExtreme-v0.2.0.jsonl.gz', sha256: '72d32acaea73d5606cb97041b30d45bbda9435a675369d3e31965513ee94e564', rawSha256: '2682a29850fb17185106b2f40e72d1ebe7091b7393c576cff71b60e83c42ed33', records: 378, staged: false },
  { file: 'MbppPlus-OriginFmt-v0.2.0.jsonl.gz', sha256: '7a5aec547b134fa297ee6c45f829298aa3f58de02547b8d8a5c3d85d9cb10efc', rawSha256: '132d01c96df6b4b0fe0cbb8414092fe62c51b873b160d1ec8fc2ded28484865a', bytes: 549_938, records: 378, staged: true },
  { file: 'mbpp.jsonl', sha256: 'ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f', bytes: 563_743, records: 974, staged: true },
  { file: 'sanitized-mbpp.json', sha256: 'ca95deaa9a01ef0a6f439f88bcf0dd3db3563d22f22aad6cae04ebb9a8d8c8e9', bytes: 255_053, records: 427, staged: true },
  { file: 'BigCodeBench-v0.1.0_hf.jsonl.gz', sha256: '58142744edaf6036387f8761701f1b353432b0ed33f2edec1de8a59e7431ef7a', rawSha256: '33baf4f414eb34507f1a8fd55ef9bcd79c1f9b4c3e8e2544f023edac1b20afec', bytes: 1_084_867, records: 1140, staged: true },
  { file: 'BigCodeBench-v0.1.4.reconstructed.jsonl.gz', sha256: '47302240e512a4eb37873b1f57eb5a34a02965d9ed95238e503943a4fa263928', rawSha256: 'f6704a124f4edcec9d12cc7912f41f3d4207f51b87f091d136e3436f7e25149f', bytes: 1_072_847, records: 1140, staged: true },
  { file: 'BigCodeBench-Hard-v0.1.4.reconstructed.jsonl.gz', sha256: '73206c288b4d4e6f2df0710503a2d1542430cd4e01f1692a27a90e037dd588ff', rawSha256: 'e5ee3607abf5274f2b9e5c65cb1aae30e78a08f707c4da5727a59faa4608d124', bytes: 179_909, records: 148, staged: true },
  { file: 'bigcodebench-hard-task-ids.txt', sha256: 'ab3c4167c9eeb34a7b762e253fb9b6dcb3c353a3475a69491424f3fb83989dd2', bytes: 2_525, records: 148, staged: true },
  { file: 'bigcodebench-v0.1.4-nonstdlib-imports-by-task.json', sha256: 'e1708e804303eb55f9950e897e3552e36110c890b7a423c01912c1f2e69baae3', bytes: 52_594, records: 1140, staged: true },
];

export function pinnedFile(file: string): PinnedFile | undefined {
  return PINNED_FILES.find((p) => p.file === file);
}

/** sha256 (hex) of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Checks `file` against `expected` (hex sha256) and returns the digest. A missing file is `data-missing`; different
 * bytes are `checksum-mismatch`, with both digests in the message.
 */
export async function verifyFile(file: string, expected: string): Promise<string> {
  let actual: string;
  try {
    actual = await sha256File(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new PipelineError('data-missing', `${file}: not found. ${MISSING_HINT}`, { hint: MISSING_HINT, cause: e });
    throw e;
  }
  if (actual !== expected.toLowerCase()) {
    throw new PipelineError('checksum-mismatch', `${file}: sha256 ${actual} differs from the pinned ${expected}`, {
      hint: 'The file is corrupt or a different version. Delete it and run `npm run data:download` again.',
    });
  }
  return actual;
}
