/**
 * `build`, run on the first call and remembered: for module-level values that cost to make (zod
 * schemas: each one's construction runs at import, ~1-5 ms per schema module here) and that many
 * commands never use. A schema built later is the same schema: same checks, same messages.
 */
export function lazy<T>(build: () => T): () => T {
  let value: { built: T } | undefined
  return () => (value ??= { built: build() }).built
}
