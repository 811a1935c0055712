// Rollout rows ⇄ Parquet bytes with the exact Arrow types of trainer-contract.md §10.3 (apache-arrow tables, parquet-wasm codec).
// Mirrors sft/formats/parquet.ts rather than importing it: stages meet through files, not imports (style.md).
import {
  Bool,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Utf8,
  makeData,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, readParquet, writeParquet } from 'parquet-wasm';
import { ExchangeError } from './errors.ts';
import { REWARD_COMPONENT_FIELDS, type RolloutRow } from './schema.ts';

// List items are named `element`, as the Parquet LIST layout names them (pyarrow, DuckDB and Spark write the same).
const listOf = (item: DataType): List => new List(new Field('element', item, false));
// A struct with one float64 field per component, not a map: Hugging Face `datasets` cannot load Arrow map columns.
const componentsStruct = (): Struct => new Struct(REWARD_COMPONENT_FIELDS.map((n) => new Field(n, new Float64(), false)));

type ColumnKind = 'string' | 'int64' | 'int32' | 'int16' | 'bool' | 'float64' | 'list-int32' | 'list-int8' | 'list-float32' | 'struct-float64';

interface ColumnSpec {
  name: keyof RolloutRow;
  kind: ColumnKind;
  nullable: boolean;
}

/** §10.3 in file order. */
const COLUMNS: readonly ColumnSpec[] = [
  { name: 'run_id', kind: 'string', nullable: false },
  { name: 'step', kind: 'int64', nullable: false },
  { name: 'group_id', kind: 'string', nullable: false },
  { name: 'group_size', kind: 'int32', nullable: false },
  { name: 'sample_idx', kind: 'int32', nullable: false },
  { name: 'segment_idx', kind: 'int16', nullable: false },
  { name: 'prompt_uid', kind: 'string', nullable: false },
  { name: 'data_source', kind: 'string', nullable: false },
  { name: 'input_ids', kind: 'list-int32', nullable: false },
  { name: 'loss_mask', kind: 'list-int8', nullable: false },
  { name: 'logprobs', kind: 'list-float32', nullable: false },
  { name: 'prompt_len', kind: 'int32', nullable: false },
  { name: 'reward', kind: 'float64', nullable: true },
  { name: 'reward_components', kind: 'struct-float64', nullable: false },
  { name: 'advantage', kind: 'float64', nullable: false },
  { name: 'policy_version_start', kind: 'int64', nullable: false },
  { name: 'policy_version_end', kind: 'int64', nullable: false },
  { name: 'served_model', kind: 'string', nullable: false },
  { name: 'finish_reason', kind: 'string', nullable: false },
  { name: 'truncated', kind: 'bool', nullable: false },
  { name: 'num_turns', kind: 'int32', nullable: false },
  { name: 'messages_json', kind: 'string', nullable: false },
  { name: 'tools_json', kind: 'string', nullable: true },
  { name: 'sampling_json', kind: 'string', nullable: false },
  { name: 'metrics_json', kind: 'string', nullable: false },
];

function arrowType(kind: ColumnKind): DataType {
  switch (kind) {
    case 'string':
      return new Utf8();
    case 'int64':
      return new Int64();
    case 'int32':
      return new Int32();
    case 'int16':
      return new Int16();
    case 'bool':
      return new Bool();
    case 'float64':
      return new Float64();
    case 'list-int32':
      return listOf(new Int32());
    case 'list-int8':
      return listOf(new Int8());
    case 'list-float32':
      return listOf(new Float32());
    case 'struct-float64':
      return componentsStruct();
  }
}

/** The Arrow schema every rollout part file has, whatever its rows. */
export function rolloutArrowSchema(): Schema {
  return new Schema(COLUMNS.map((c) => new Field(c.name, arrowType(c.kind), c.nullable)));
}

/** A readable form of the expected schema, for error messages and tests: `name: Type` per column. */
export function describeRolloutSchema(): string[] {
  return rolloutArrowSchema().fields.map((f) => `${f.name}: ${String(f.type)}${f.nullable ? ' (nullable)' : ''}`);
}

/** The value handed to vectorFromArray: int64 as bigint, which is what apache-arrow's builders take. */
function toArrowValue(kind: ColumnKind, v: unknown): unknown {
  if (v === null) return null;
  if (kind === 'int64') return BigInt(v as number);
  return v;
}

/** Encodes rows (already validated) as one Parquet file with one record batch; SNAPPY, which every reader supports. */
export function rolloutRowsToParquet(rows: readonly RolloutRow[]): Uint8Array {
  const schema = rolloutArrowSchema();
  const children = COLUMNS.map((c, i) => {
    const field = schema.fields[i] as Field;
    const v = vectorFromArray(
      rows.map((r) => toArrowValue(c.kind, r[c.name])),
      field.type,
    );
    const only = v.data[0];
    // One chunk per column keeps the columns aligned inside the single record batch.
    if (v.data.length !== 1 || only === undefined) throw new Error(`column ${c.name}: expected one Arrow chunk, got ${v.data.length}`);
    return only;
  });
  const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children }));
  const table = new Table(schema, [batch]);
  const props = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build();
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), props);
}

function fromArrowValue(kind: ColumnKind, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'int64':
      return Number(v as bigint);
    case 'list-int32':
    case 'list-int8':
    case 'list-float32':
      return Array.from((v as Vector).toArray() as ArrayLike<number>);
    case 'struct-float64': {
      const row = v as { toJSON(): Record<string, number> };
      return { ...row.toJSON() };
    }
    default:
      return v;
  }
}

/**
 * Decodes a part file, refusing one whose columns or types differ from §10.3: a consumer must never get ids as strings
 * or components as JSON text. Row values are not validated here (the reader does that with zod).
 */
export function parquetToRolloutRows(bytes: Uint8Array, fileLabel: string): Array<Record<string, unknown>> {
  const table = tableFromIPC(readParquet(bytes).intoIPCStream());
  const got = table.schema.fields.map((f) => `${f.name}: ${String(f.type)}${f.nullable ? ' (nullable)' : ''}`);
  const want = describeRolloutSchema();
  if (got.length !== want.length || got.some((g, i) => g !== want[i])) {
    const firstDiff = want.findIndex((w, i) => got[i] !== w);
    throw new ExchangeError('manifest-mismatch', `${fileLabel}: columns differ from grpo-exchange/v1 at #${firstDiff}: expected "${want[firstDiff] ?? '(none)'}", found "${got[firstDiff] ?? '(none)'}"`);
  }
  const columns = COLUMNS.map((c) => {
    const vec = table.getChild(c.name);
    if (vec === null) throw new ExchangeError('manifest-mismatch', `${fileLabel}: column ${c.name} is missing`);
    return vec;
  });
  const rows: Array<Record<string, unknown>> = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {};
    COLUMNS.forEach((c, ci) => {
      row[c.name] = fromArrowValue(c.kind, (columns[ci] as Vector).get(i));
    });
    rows.push(row);
  }
  return rows;
}
