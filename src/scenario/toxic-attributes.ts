/**
 * Attributes each Toxiproxy 2.x toxic type takes (Shopify/toxiproxy `toxics/*.go`), so a typo
 * such as `ratee` fails when the scenario is validated instead of being ignored by the proxy.
 * Value ranges are left to the proxy: the runner asks it before the run starts.
 */
export const TOXIC_ATTRIBUTES = {
  latency: ['latency', 'jitter'],
  bandwidth: ['rate'],
  slow_close: ['delay'],
  timeout: ['timeout'],
  reset_peer: ['timeout'],
  slicer: ['average_size', 'size_variation', 'delay'],
  limit_data: ['bytes'],
  noop: [],
} as const satisfies Record<string, readonly string[]>;

/** Toxic types Toxiproxy 2.12 knows. */
export type ToxicType = keyof typeof TOXIC_ATTRIBUTES;
export const TOXIC_TYPES = Object.keys(TOXIC_ATTRIBUTES) as [ToxicType, ...ToxicType[]];
