// Module load hook, registered by bin/register.js after tsx, so it sees tsx's output: makes the
// `__name` helper esbuild emits for tsx's `keepNames` an identity.
//
// Why: tsx compiles every file with esbuild's keepNames, which wraps each function and class
// creation in `__name(fn, "fn")`, an Object.defineProperty of `name`. That turns every closure's
// properties into a dictionary (256 more bytes each in V8) and costs a defineProperty call each
// time one is created (too little to show in bench/cpu-per-message.ts). keepNames exists
// for minified code, whose identifiers are renamed; tsx does not rename them. The price: a
// closure esbuild wrapped (`const f = __name(() => {}, "f")`) is anonymous, since V8 infers a
// name only from a direct assignment, so a stack trace shows it as `<anonymous>` with its file
// and line; function declarations and classes keep their names. Nothing in chatstorm reads a
// function's name. Measured with bench/scale-devices.ts (10,000 idle devices): 15.0-17.1 KB per
// device in three runs, against 19.6-21.4 in six without this hook (docs/performance.md, session
// 12). No option of tsx turns keepNames off, hence a hook.
//
// Only the helper's definition is rewritten, and only when it is exactly esbuild's (minified as
// tsx emits it); any other text, or a later tsx that emits another form, passes unchanged.
export const KEEP_NAMES_HELPER = 'var __name=(target,value)=>__defProp(target,"name",{value,configurable:true});';
export const PLAIN_HELPER = 'var __name=(target)=>target;';

const ROOT = new URL('../', import.meta.url).href;

/**
 * Whether a module is one whose helper is rewritten: chatstorm's own files (also when chatstorm is
 * installed under a project's node_modules) and the user's, never another package's, whose
 * minified code may need the names keepNames keeps.
 */
export function rewrites(url, root = ROOT) {
  if (!url.startsWith('file:')) return false;
  if (url.startsWith(root)) return !url.slice(root.length).startsWith('node_modules/');
  return !url.includes('/node_modules/');
}

export async function load(url, context, next) {
  const loaded = await next(url, context);
  if (loaded.source == null || !rewrites(url)) return loaded;
  const source = typeof loaded.source === 'string' ? loaded.source : Buffer.from(loaded.source).toString('utf8');
  const at = source.indexOf(KEEP_NAMES_HELPER);
  if (at === -1) return loaded;
  return { ...loaded, source: source.slice(0, at) + PLAIN_HELPER + source.slice(at + KEEP_NAMES_HELPER.length) };
}
