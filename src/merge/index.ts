/** Merging the shards of a run into one report (`chatstorm merge`, and after `run --workers`). */
export { mergeShards, type MergeOptions, type MergeResult, type MergedSummary, type ShardStatus } from './merge-shards.ts';
export { mergeVerdicts, mergeChecks, type ShardPart, type ShardWitness } from './merge-verdict.ts';
export { SHARD_FILES, SHARD_SCHEMA, manifestOf, encodeHistograms, writeManifest, writeHistograms, type ShardManifest, type ShardHistograms } from './shard-files.ts';
