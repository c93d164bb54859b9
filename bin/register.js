// The module loaders every chatstorm process runs with (the command line, the children it starts,
// the benchmarks' measurement children): tsx, so the TypeScript sources and user scenario files
// load without a build step; a hook that resolves 'chatstorm' to this package; and one that drops
// tsx's keepNames wrappers (bin/plain-names.js). Hooks registered later run first.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

register();
// 'chatstorm' in a user's file is this package.
registerHooks('./resolve-self.js', import.meta.url, { data: { self: new URL('../src/index.ts', import.meta.url).href } });
// Sees what tsx compiled.
registerHooks('./plain-names.js', import.meta.url);
