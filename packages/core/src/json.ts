const decoder = new TextDecoder();

/**
 * The value of a JSON document given as UTF-8 bytes (a NATS message, a KV value) or as
 * text; `undefined` when it is not JSON. The one JSON parse of what the project stores:
 * a reader that must refuse bad data checks the value (a schema, a type guard) and says
 * why, one that can do without it treats `undefined` as absent.
 */
export function parseJson(data: Uint8Array | string): unknown {
  try {
    return JSON.parse(typeof data === "string" ? data : decoder.decode(data));
  } catch {
    return undefined;
  }
}
