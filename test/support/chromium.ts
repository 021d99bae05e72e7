// Debian's headless Chromium for render tests of the report pages (mininet/setup.sh installs it).
import { spawn } from 'node:child_process';

/** Runs headless Chromium with its console logged to stderr; resolves with both streams. Killed after 60 s. */
export function chromium(args: string[], profile: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'chromium',
      ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Console errors and uncaught exceptions Chromium reports on stderr (its D-Bus noise is not one). */
export const consoleErrors = (stderr: string): string[] => stderr.split('\n').filter((l) => /Uncaught|CONSOLE\(|console/i.test(l));
