#!/usr/bin/env node
// seamless command-line entry point. Subcommands live in their own modules;
// this file only dispatches, so `seamless --help` stays fast.
import { runCli } from './dispatch.js';

process.exitCode = await runCli(process.argv.slice(2));
