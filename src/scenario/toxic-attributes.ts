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
  /** chatstorm extension: TCP stalls from packet loss (docs/proxy.md); embedded proxy only. */
  loss: ['probability_ppm', 'segment_size', 'min_rto', 'max_rto', 'burst'],
} as const satisfies Record<string, readonly string[]>;

/**
 * Toxic types only chatstorm's embedded proxy has: a run against a real Toxiproxy refuses a
 * scenario that uses one before anything starts (exit 2).
 */
export const EMBEDDED_ONLY_TOXICS: readonly string[] = ['loss'];

/** Toxic types a scenario may use: Toxiproxy 2.12's, plus the embedded proxy's extensions. */
export type ToxicType = keyof typeof TOXIC_ATTRIBUTES;
export const TOXIC_TYPES = Object.keys(TOXIC_ATTRIBUTES) as [ToxicType, ...ToxicType[]];
