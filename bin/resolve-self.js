// Module resolve hook, registered by bin/chatstorm.js: a scenario or driver file that imports
// 'chatstorm' gets this very copy of the package, wherever the file lives (a project without
// node_modules, a global install, a scratch folder) and whichever copy the project has installed.
// One copy means one set of module instances: the built-in drivers and error classes the CLI
// compares against are the ones the user's file imported.
let self;

export function initialize(data) {
  self = data.self;
}

export async function resolve(specifier, context, next) {
  // Handed on as a file URL, so tsx still resolves (and later compiles) it.
  if (specifier === 'chatstorm') return next(self, context);
  return next(specifier, context);
}
