#!/usr/bin/env node
// Entry point: the module loaders (bin/register.js: tsx, so the TypeScript sources and user
// scenario files load without a build step; 'chatstorm' resolved to this package; no keepNames
// wrappers), then hands over to the CLI.
import './register.js';

// A child of a run (reference server, embedded proxy) ends when the run's process is gone,
// also after SIGKILL; see src/net/parent-watch.ts.
const { watchParent } = await import('../src/net/parent-watch.ts');
watchParent();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Exit explicitly once the command is done: the reports are written, and a request abandoned on a
// hung Toxiproxy (toxiproxy-node-client cannot cancel one) must not keep the process alive for
// minutes. stdout and stderr are synchronous for files and pipes on Linux, so nothing is lost.
process.exit(code);
