/** Drivers: the contract (v2) a chat back end's adapter meets, the reference driver, and driver helpers. */
export type {
  Driver,
  DriverCapabilities,
  DriverLimits,
  Connection,
  ConnectOptions,
  ConnectStep,
  DeviceHandlers,
  DeviceIdentity,
  OutboundMessage,
  OutboundAttachment,
  InboundMessage,
  AckReport,
  Refusal,
  Position,
  ProvisionRequest,
  PreloadHistoryRequest,
  PreloadedHistory,
  HistoryRequest,
  HistoryPage,
  UnreadReport,
  FetchOutcome,
} from './driver.ts';
export { DRIVER_CONTRACT, defineDriver } from './driver.ts';
export { loadDriver, checkDriver, BUILTIN_DRIVERS } from './load.ts';
export { referenceDriver, ReferenceDeviceState, ProvisionError } from './reference.ts';
export { checkScenarioForDriver, declarationOf } from './capabilities.ts';
export { encodeMarker, decodeMarker, type Marker } from './marker.ts';
export { messageBody } from './body.ts';
export { xmppDriver, type XmppDriverOptions } from './xmpp/driver.ts';
export {
  testDriverContract,
  contractScenario,
  contractFacts,
  judgeContract,
  describeContractResult,
  type ContractItem,
  type ContractItemStatus,
  type ContractTestOptions,
  type ContractTestResult,
} from './contract-test.ts';
