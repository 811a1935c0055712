// Where each benchmark file comes from: upstream URLs to try in order, or, for files we derived, how they were made.
/**
 * Every URL is pinned by the sha256 in checksums.ts, so a mirror can only supply the same bytes. The official
 * location comes first; a pinned-commit raw copy on GitHub is the fallback.
 *
 * Not from Hugging Face: the HF dataset bigcode/bigcodebench (its datasets-server and `resolve` URLs) serves each
 * version as Parquet, which can never match the sha256 of the gzipped JSONL the harness used; the same file is a
 * GitHub release asset of bigcodebench-annotation, which is what bigcodebench's own fallback downloads.
 */
import { DATA_FILES } from './data-files.ts';

export interface DataSource {
  file: string;
  /** Tried in order; the first whose bytes match the pinned sha256 is kept. Empty for derived files. */
  urls: string[];
  /** Derived files cannot be downloaded: how the file was made, and where to get it. */
  derived?: string;
  /** Read by some benchmark loader (fetched by default) rather than only on request (--only). */
  needed: boolean;
}

const HE_PLUS_RELEASE = 'https://github.com/evalplus/humanevalplus_release/releases/download/v0.1.10';
const HE_PLUS_RAW = 'https://raw.githubusercontent.com/evalplus/humanevalplus_release/200defce9e3429d28ca215b6dd061c0f7f31c18b';
const MBPP_PLUS_RELEASE = 'https://github.com/evalplus/mbppplus_release/releases/download/v0.2.0';
const MBPP_PLUS_RAW = 'https://raw.githubusercontent.com/evalplus/mbppplus_release/64fc4195b858a17cdfdb3324f0baf37939144e14';
const GOOGLE_MBPP = 'https://raw.githubusercontent.com/google-research/google-research/master/mbpp';

const BCB_DERIVED =
  'Derived, not downloadable: BigCodeBench v0.1.4 exists only on the Hugging Face Hub (as Parquet). This file is ' +
  'BigCodeBench-v0.1.0_hf.jsonl.gz with the `map_ds` fixes of bigcode-project/bigcodebench @ 47eff25 ' +
  'tools/fix_v019.py, fix_v020.py, fix_v022.py and fix_v023.py applied in order (tasks 178, 760, 1006; 16, 37, 241, 267; ' +
  '1005; 211, 215), written with json.dumps(ensure_ascii=False) and gzipped. Copy it from the shared staging folder ' +
  '(../shared/datasets) or rebuild it that way; the pinned sha256 identifies the staged build.';

export const DATA_SOURCES: readonly DataSource[] = [
  {
    file: DATA_FILES.humaneval,
    urls: [
      'https://raw.githubusercontent.com/openai/human-eval/6d43fb980f9fee3c892a914eda09951f772ad10d/data/HumanEval.jsonl.gz',
      'https://github.com/openai/human-eval/raw/master/data/HumanEval.jsonl.gz',
    ],
    needed: true,
  },
  { file: DATA_FILES.humanevalPlus, urls: [`${HE_PLUS_RELEASE}/HumanEvalPlus.jsonl.gz`, `${HE_PLUS_RAW}/HumanEvalPlus.jsonl.gz`], needed: true },
  { file: DATA_FILES.humanevalPlusOriginFmt, urls: [`${HE_PLUS_RELEASE}/HumanEvalPlus-OriginFmt.jsonl.gz`, `${HE_PLUS_RAW}/HumanEvalPlus-OriginFmt.jsonl.gz`], needed: true },
  { file: 'HumanEvalPlus-Mini-v0.1.10.jsonl.gz', urls: [`${HE_PLUS_RELEASE}/HumanEvalPlus-Mini.jsonl.gz`, `${HE_PLUS_RAW}/HumanEvalPlus-Mini.jsonl.gz`], needed: false },
  { file: 'HumanEvalPlus-NoExtreme-v0.1.10.jsonl.gz', urls: [`${HE_PLUS_RELEASE}/HumanEvalPlus-NoExtreme.jsonl.gz`, `${HE_PLUS_RAW}/HumanEvalPlus-NoExtreme.jsonl.gz`], needed: false },
  { file: DATA_FILES.mbppPlus, urls: [`${MBPP_PLUS_RELEASE}/MbppPlus.jsonl.gz`, `${MBPP_PLUS_RAW}/MbppPlus.jsonl.gz`], needed: true },
  { file: DATA_FILES.mbppPlusOriginFmt, urls: [`${MBPP_PLUS_RELEASE}/MbppPlus-OriginFmt.jsonl.gz`, `${MBPP_PLUS_RAW}/MbppPlus-OriginFmt.jsonl.gz`], needed: true },
  { file: 'MbppPlus-NoExtreme-v0.2.0.jsonl.gz', urls: [`${MBPP_PLUS_RELEASE}/MbppPlus-NoExtreme.jsonl.gz`, `${MBPP_PLUS_RAW}/MbppPlus-NoExtreme.jsonl.gz`], needed: false },
  {
    file: DATA_FILES.mbpp,
    // google-research's current copy may have been edited since Hugging Face pinned this sha256 (README.txt); the
    // byte-identical copy at a pinned commit is the fallback.
    urls: [`${GOOGLE_MBPP}/mbpp.jsonl`, 'https://raw.githubusercontent.com/Yogi-20MIS7040/DL/b163043d8b8a2935b8c4fa3cee384adb8a3add35/original.jsonl'],
    needed: true,
  },
  {
    file: DATA_FILES.mbppSanitized,
    urls: [`${GOOGLE_MBPP}/sanitized-mbpp.json`, 'https://raw.githubusercontent.com/mrigankpawagi/PropertyEval/a7e7b008ff7ce7a6e5d96ec7bd597150a5da1fc1/sanitized-mbpp.json'],
    needed: true,
  },
  {
    file: DATA_FILES.bigcodebench010,
    urls: [
      'https://github.com/bigcode-project/bigcodebench-annotation/releases/download/v0.1.0_hf/BigCodeBench.jsonl.gz',
      'https://raw.githubusercontent.com/bigcode-project/bigcodebench-annotation/d8a1b7b418b5c73b32e6d9731e062f549818c8d9/hf_data/BigCodeBench.jsonl.gz',
    ],
    needed: true,
  },
  { file: DATA_FILES.bigcodebench014, urls: [], derived: BCB_DERIVED, needed: true },
  {
    file: DATA_FILES.bigcodebenchHard014,
    urls: [],
    derived: `Derived, not downloadable: ${DATA_FILES.bigcodebench014} filtered to the 148 ids of ${DATA_FILES.bigcodebenchHardIds}. Copy it from ../shared/datasets.`,
    needed: true,
  },
  {
    file: DATA_FILES.bigcodebenchHardIds,
    urls: [],
    derived:
      'Derived, not downloadable: the task ids of two official-harness `--subset hard` output files ' +
      '(wyettzeng/bigcodebench @ ef6cb51, haozhe/*--bigcodebench-hard-complete--vllm-0-1-sanitized_calibrated.jsonl; they agree). Copy it from ../shared/datasets.',
    needed: true,
  },
  {
    file: DATA_FILES.bigcodebenchImports,
    urls: [],
    derived:
      'Derived, not downloadable: task_id -> sorted top-level non-stdlib modules imported in complete_prompt + ' +
      'canonical_solution + test of v0.1.4 (an ast walk; stdlib = sys.stdlib_module_names of Python 3.11). Copy it from ../shared/datasets.',
    needed: true,
  },
];

export function dataSource(file: string): DataSource | undefined {
  return DATA_SOURCES.find((s) => s.file === file);
}
