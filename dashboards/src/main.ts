// `npm run dashboards [-- DIR]`: writes the generated dashboards into DIR
// (default: the repository's dashboards/ directory, next to this src/).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDashboards } from './index.js';

const dir = path.resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
mkdirSync(dir, { recursive: true });
for (const { file, content } of renderDashboards()) {
  writeFileSync(path.join(dir, file), content);
  console.log(path.join(dir, file));
}
