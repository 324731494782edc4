/*
 * The upper tail of the chi-square distribution with one degree of freedom, P(X > q) = erfc(√(q/2)),
 * with erfc computed to full double precision:
 * - for 0 ≤ x < 0.5, erfc = 1 − erf with erf from its everywhere-positive series
 *   erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1))  (no cancellation; erfc ≥ 0.47 here);
 * - for x ≥ 0.5, the continued fraction erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))),
 *   evaluated with the modified Lentz method, which keeps its relative accuracy however small erfc gets.
 */

const INV_SQRT_PI = 0.5641895835477563;
const TINY = 1e-300;

function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n += 1) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return 2 * INV_SQRT_PI * Math.exp(-x2) * sum;
}

/** e^(−x²) with x² split into an exact high part and a small low part, so large x lose no accuracy. */
function expMinusSquare(x: number): number {
  const high = Math.round(x * 4096) / 4096;
  const low = x - high;
  // x² = high² + low·(x + high); high² is exact in double precision (≤ 2 × 13 significant bits + exponent).
  return Math.exp(-high * high) * Math.exp(-low * (x + high));
}

function erfcContinuedFraction(x: number): number {
  // f = x + a1/(x + a2/(x + a3/(x + …))) with a_k = k/2.
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 100_000; k += 1) {
    const a = k / 2;
    d = x + a * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = x + a / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (expMinusSquare(x) * INV_SQRT_PI) / f;
}

/** The complementary error function, to about 1e-15 relative over the whole double range. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 0.5) return 1 - erfSeries(x);
  if (x > 27.3) return 0; // below the smallest subnormal double
  return erfcContinuedFraction(x);
}

/** P(X > q) for X ~ chi-square with 1 degree of freedom. */
export function chiSquare1UpperTail(q: number): number {
  if (Number.isNaN(q)) return Number.NaN;
  if (q <= 0) return 1;
  return erfc(Math.sqrt(q / 2));
}
