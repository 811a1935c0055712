// Writes configs/schema.json from the zod schema, so editors complete and check the YAML files.
import { writeFile } from 'node:fs/promises';
import { configJsonSchema } from '../pipeline/cli/config.ts';

await writeFile(new URL('../configs/schema.json', import.meta.url), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
process.stdout.write('wrote configs/schema.json\n');
