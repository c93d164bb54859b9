export { openToxiproxy, type ToxiproxyHandle } from './toxiproxy.ts';
export { createNetworks, proxyAddressing, removeNetworks, addToxic, removeToxic, setEnabled, NetworkError, type Network } from './networks.ts';
export { describeToxiproxyError } from './toxiproxy-error.ts';
export { startChild, type ChildService } from './child.ts';
