export type * from './events.ts';
export { HISTORY_SCHEMA } from './events.ts';
export { Recorder, type Listener, type EventInput } from './recorder.ts';
export { HistoryWriter } from './writer.ts';
export { guardListener } from './guard.ts';
export { readHistory, HistoryFileError } from './reader.ts';
