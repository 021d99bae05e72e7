/** A subcommand: receives its own argv, returns the process exit status. */
export type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {};

/** Registers a subcommand lazily so unrelated modules are not loaded. */
export function register(name: string, summary: string, load: () => Promise<Command>): void {
  commands[name] = { summary, load };
}

function usage(): string {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`);
  return `usage: seamless <command> [args]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function runCli(argv: string[]): Promise<number> {
  await import('./commands.js');
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 1 : 0;
  }
  const cmd = commands[name];
  if (cmd === undefined) {
    process.stderr.write(`seamless: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  return (await cmd.load())(rest);
}
