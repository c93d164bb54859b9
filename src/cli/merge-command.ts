/**
 * `chatstorm merge <shard-dirs...> [--out DIR]`: the shards of one run (`run --shard i/n`, the pods
 * of an Indexed Job) into one report and one exit code. See src/merge.
 */
import { mergeShards, type MergeResult } from '../merge/index.ts';
import { renderConsole } from '../report/text.ts';

export interface MergeCommandOptions {
  dirs: string[];
  out?: string;
  sla?: string[];
}

/** Merge and describe the result for the console. */
export async function mergeCommand(o: MergeCommandOptions): Promise<{ result: MergeResult; text: string }> {
  const result = await mergeShards({ dirs: o.dirs, out: o.out, sla: o.sla });
  return { result, text: describeMerge(result) };
}

/** Console rendering of a merged run: the verdict, one line per shard, where the files are. */
export function describeMerge(r: MergeResult): string {
  const shards = r.summary.shards.map(
    (s) => `  shard ${s.shard.padEnd(6)} ${s.verdict.padEnd(8)} ${s.merged ? 'merged    ' : 'not merged'} ${s.dir ?? '(no folder)'}${s.error ? `\n      ${s.error}` : ''}`,
  );
  return `${renderConsole(r.summary)}\n\nshards\n${shards.join('\n')}\n\nmerged report: ${r.dir}`;
}
