/**
 * Depth of a parsed JSON value, measured without recursion (a recursive walk is exactly
 * what a hostile body would overflow). Stops counting once past `limit`.
 */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(v)) stack.push({ value: child, depth: depth + 1 });
  }
  return false;
}

/**
 * How deep `params` and `meta` may nest. JSON.stringify (publishing, hashing an
 * Idempotency-Key body) recurses, and a 512 KiB body can nest 260,000 levels: enough
 * to overflow the stack and turn a bad request into a 500.
 */
export const MAX_JSON_DEPTH = 32;
