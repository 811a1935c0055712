// Rows → a Parquet file with exact nested types: Arrow tables (apache-arrow) written by the Rust writer in parquet-wasm.
import { Field, RecordBatch, Schema, Struct, Table, Utf8, List, Int64, makeData, tableToIPC, vectorFromArray, type DataType } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';

/** Types used in our files; nested values are plain objects and arrays shaped like the type. */
export const utf8 = (): Utf8 => new Utf8();
export const int64 = (): Int64 => new Int64();
export const struct = (fields: Array<[string, DataType, boolean?]>): Struct => new Struct(fields.map(([name, type, nullable]) => new Field(name, type, nullable ?? false)));
export const list = (item: DataType): List => new List(new Field('element', item, false));

export interface Column {
  name: string;
  type: DataType;
  nullable?: boolean;
}

const BATCH_ROWS = 4096;

/**
 * Builds the table from an explicit schema, so every file has the same types whatever its rows (an empty
 * validation split included) and nested columns are real list<struct<…>> rather than JSON strings, which
 * verl (rl_dataset.py) and TRL need. SNAPPY compression: every Parquet reader supports it.
 */
export function parquetBytes(columns: readonly Column[], rows: ReadonlyArray<Record<string, unknown>>): Uint8Array {
  const fields = columns.map((c) => new Field(c.name, c.type, c.nullable ?? false));
  const schema = new Schema(fields);
  const batches: RecordBatch[] = [];
  for (let start = 0; start === 0 || start < rows.length; start += BATCH_ROWS) {
    const part = rows.slice(start, start + BATCH_ROWS);
    const children = fields.map((f) => {
      const v = vectorFromArray(
        part.map((r) => r[f.name]),
        f.type,
      );
      const only = v.data[0];
      // vectorFromArray builds one chunk for batches this size; a second would mean misaligned columns.
      if (v.data.length !== 1 || only === undefined) throw new Error(`column ${f.name}: expected one Arrow chunk, got ${v.data.length}`);
      return only;
    });
    batches.push(new RecordBatch(schema, makeData({ type: new Struct(fields), length: part.length, nullCount: 0, children })));
  }
  const table = new Table(schema, batches);
  const props = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build();
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), props);
}
