/** The XMPP driver: XMPP over WebSocket to real servers (Prosody, ejabberd). See docs/drivers.md. */
export { xmppDriver, domainOfTarget, type XmppDriverOptions, type XmppDriver, type XmppDriverStats, type XmppMode, type XmppContext, type XmppDeviceState } from './driver.ts';
export { registerAccounts, XmppProvisionError } from './provision.ts';
export { XmppStream, XmppStreamError, NS } from './stream.ts';
export { MamCollector, type ArchivedMessage, type MamPage, type MamQuery } from './mam.ts';
