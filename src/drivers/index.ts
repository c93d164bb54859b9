export type {
  Driver,
  Connection,
  ConnectOptions,
  DeviceHandlers,
  DeviceIdentity,
  OutboundMessage,
  OutboundAttachment,
  InboundMessage,
  HistoryRequest,
  HistoryPage,
  UnreadReport,
  FetchOutcome,
} from './driver.ts';
export { defineDriver } from './define.ts';
export { loadDriver, checkDriver, BUILTIN_DRIVERS } from './load.ts';
export { referenceDriver, ProvisionError } from './reference.ts';
export { encodeMarker, decodeMarker, type Marker } from './marker.ts';
export { messageBody } from './body.ts';
