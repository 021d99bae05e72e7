// Helpers that integration tests use live in test/support/, not inside another
// suite's folder: an integration test importing from test/unit/ ties the two
// suites together (moving or editing a unit helper silently breaks it).
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const testDir = join(dirname(fileURLToPath(import.meta.url)), '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Module specifiers of a file's import/export-from statements. */
function specifiers(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/\b(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

test('integration tests and test/support import nothing from test/unit/', (t) => {
  const files = [...tsFiles(join(testDir, 'integration')), ...tsFiles(join(testDir, 'support'))];
  t.true(files.length > 10, 'the scan sees the integration tests and support files');
  const offending = files.flatMap((f) =>
    specifiers(f)
      .filter((s) => s.startsWith('.') && join(dirname(f), s).startsWith(join(testDir, 'unit') + '/'))
      .map((s) => `${f.slice(testDir.length + 1)} imports ${s}`),
  );
  t.deepEqual(offending, []);
});
