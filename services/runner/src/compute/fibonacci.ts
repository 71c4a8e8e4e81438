/**
 * F(n) by fast doubling on BigInt: F(2k) = F(k)·(2F(k+1) − F(k)) and
 * F(2k+1) = F(k)² + F(k+1)², walking the bits of n from the top, so O(log n) big
 * multiplications. Returned as a decimal string (JSON has no BigInt).
 */
export function fibonacci(n: number): string {
  let a = 0n; // F(k)
  let b = 1n; // F(k+1)
  for (let bit = 31 - Math.clz32(n); bit >= 0 && n > 0; bit--) {
    const c = a * (2n * b - a); // F(2k)
    const d = a * a + b * b; // F(2k+1)
    if ((n >> bit) & 1) {
      a = d;
      b = c + d;
    } else {
      a = c;
      b = d;
    }
  }
  return a.toString();
}
