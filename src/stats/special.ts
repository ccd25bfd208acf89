/**
 * Special functions behind the tests' p-values and intervals, written for accuracy in the far
 * tails because a scheduled workflow with large samples routinely sees p-values below 1e-8.
 *
 * Why not jstat: it has no Welch test at all, and its `normal.cdf` is `0.5 * (1 + erf(x / √2))`,
 * so `1 - cdf` for a z of 6 or more is computed by cancellation and returns 0 (or noise) where
 * the true tail is 1e-9 and smaller. Here the tails are computed directly: erfc by a series and a
 * continued fraction, Student's t through the regularized incomplete beta (Lentz's continued
 * fraction, Numerical Recipes §6.4), chi-square through the regularized incomplete gamma (§6.2).
 */

const SQRT_PI = Math.sqrt(Math.PI)
const EPSILON = 1e-16
const TINY = 1e-300
const MAX_ITERATIONS = 100_000

/**
 * e^(-x²) without the rounding error of squaring x first: at x = 30 that error alone would cost
 * about nine digits. Splits x into a short head (exactly squarable) and a tail (W. J. Cody's trick).
 */
function expMinusSquare(x: number): number {
  const head = Math.trunc(x * 16) / 16
  const tail = (x - head) * (x + head)
  return Math.exp(-head * head) * Math.exp(-tail)
}

/** Complementary error function, accurate to ~1e-15 relative everywhere, including erfc(30) ≈ 2.6e-393 → 0. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN
  if (x < 0) return 2 - erfc(-x)
  if (x < 1.5) {
    // erf(x) = 2x/√π · e^(-x²) · Σ (2x²)^n / (1·3·…·(2n+1)): all terms positive, no cancellation.
    const twoXSquared = 2 * x * x
    let term = 1
    let sum = 1
    for (let n = 1; n < MAX_ITERATIONS && term > EPSILON * sum; n++) {
      term *= twoXSquared / (2 * n + 1)
      sum += term
    }
    return 1 - ((2 * x) / SQRT_PI) * expMinusSquare(x) * sum
  }
  // erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), by modified Lentz.
  let f = x
  let c = x
  let d = 0
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    const a = n / 2
    d = x + a * d
    d = Math.abs(d) < TINY ? TINY : d
    c = x + a / c
    c = Math.abs(c) < TINY ? TINY : c
    d = 1 / d
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) < EPSILON) break
  }
  return expMinusSquare(x) / SQRT_PI / f
}

/** P(Z > z) for a standard normal Z, without cancellation in either tail. */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2)
}

function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI)
}

/**
 * The z with P(Z > z) = p. Starts from Abramowitz & Stegun 26.2.23 (error < 4.5e-4) and polishes
 * with Halley steps on the accurate tail, which triple the correct digits each time.
 */
export function normalQuantileUpper(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return Infinity
    if (p === 1) return -Infinity
    return NaN
  }
  if (p > 0.5) return -normalQuantileUpper(1 - p)
  const t = Math.sqrt(-2 * Math.log(p))
  let z =
    t -
    (2.515517 + 0.802853 * t + 0.010328 * t * t) /
      (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t)
  for (let i = 0; i < 4; i++) {
    const error = normalSf(z) - p
    const slope = -normalPdf(z)
    const step = error / slope
    z -= step / (1 + (step * z) / 2)
  }
  return z
}

// Lanczos approximation (g = 7, n = 9): ~15 significant digits for Γ on the positive reals.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7
]

export function logGamma(x: number): number {
  if (x < 0.5) {
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x)
  }
  const y = x - 1
  let sum = LANCZOS[0]!
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (y + i)
  const t = y + 7.5
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum)
}

/**
 * ln Γ(a) - ln Γ(a + b) for a ≥ 20 by Stirling's series, because subtracting two log-gammas of
 * ~1e7 (a t-test with millions of users) would leave only nine correct digits.
 */
function logGammaRatio(a: number, b: number): number {
  const correction = (z: number): number => {
    const z2 = z * z
    return (1 / 12 - (1 / 360 - (1 / 1260 - 1 / (1680 * z2)) / z2) / z2) / z
  }
  return (
    -(a - 0.5) * Math.log1p(b / a) - b * Math.log(a + b) + b + correction(a) - correction(a + b)
  )
}

function logBeta(a: number, b: number): number {
  const large = Math.max(a, b)
  const small = Math.min(a, b)
  if (large >= 20) return logGamma(small) + logGammaRatio(large, small)
  return logGamma(a) + logGamma(b) - logGamma(a + b)
}

/** Continued fraction for I_x(a, b), by modified Lentz (Numerical Recipes' betacf). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b
  const qap = a + 1
  const qam = a - 1
  let c = 1
  let d = 1 - (qab * x) / qap
  d = Math.abs(d) < TINY ? TINY : d
  d = 1 / d
  let h = d
  for (let m = 1; m < MAX_ITERATIONS; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2))
    d = 1 + aa * d
    d = Math.abs(d) < TINY ? TINY : d
    c = 1 + aa / c
    c = Math.abs(c) < TINY ? TINY : c
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2))
    d = 1 + aa * d
    d = Math.abs(d) < TINY ? TINY : d
    c = 1 + aa / c
    c = Math.abs(c) < TINY ? TINY : c
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPSILON) break
  }
  return h
}

/**
 * Regularized incomplete beta I_x(a, b). `y` is 1 - x, passed separately so callers that know it
 * exactly (t-tests with huge degrees of freedom) do not lose it to cancellation.
 */
export function incompleteBeta(a: number, b: number, x: number, y = 1 - x): number {
  if (x <= 0) return 0
  if (y <= 0) return 1
  const logFront = a * Math.log(x) + b * Math.log(y) - logBeta(a, b)
  if (x < (a + 1) / (a + b + 2)) {
    return (Math.exp(logFront) * betaContinuedFraction(a, b, x)) / a
  }
  return 1 - (Math.exp(logFront) * betaContinuedFraction(b, a, y)) / b
}

/** P(T > t) for Student's t with `df` degrees of freedom (df may be fractional, as in Welch). */
export function studentTSf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN
  if (!Number.isFinite(df)) return normalSf(t)
  const t2 = t * t
  const tail = 0.5 * incompleteBeta(df / 2, 0.5, df / (df + t2), t2 / (df + t2))
  return t > 0 ? tail : 1 - tail
}

function studentTPdf(t: number, df: number): number {
  return Math.exp(
    -logBeta(df / 2, 0.5) - 0.5 * Math.log(df) - ((df + 1) / 2) * Math.log1p((t * t) / df)
  )
}

/** The t with P(T > t) = p, for 0 < p < 0.5: Newton from the normal quantile inside a bracket. */
export function studentTQuantileUpper(p: number, df: number): number {
  if (!Number.isFinite(df)) return normalQuantileUpper(p)
  let low = normalQuantileUpper(p)
  let high = low
  while (studentTSf(high, df) > p) high *= 2
  let t = low
  for (let i = 0; i < 200; i++) {
    const error = studentTSf(t, df) - p
    if (error > 0) low = t
    else high = t
    let next = t + error / studentTPdf(t, df)
    if (!(next > low && next < high)) next = (low + high) / 2
    if (Math.abs(next - t) <= 1e-15 * Math.abs(t)) return next
    t = next
  }
  return t
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function incompleteGammaUpper(a: number, x: number): number {
  if (x <= 0) return 1
  const logFront = a * Math.log(x) - x - logGamma(a)
  if (x < a + 1) {
    let term = 1 / a
    let sum = term
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n)
      sum += term
      if (term < sum * EPSILON) break
    }
    return 1 - sum * Math.exp(logFront)
  }
  let b = x + 1 - a
  let c = 1 / TINY
  let d = 1 / b
  let h = d
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    d = Math.abs(d) < TINY ? TINY : d
    c = b + an / c
    c = Math.abs(c) < TINY ? TINY : c
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPSILON) break
  }
  return Math.exp(logFront) * h
}

/** P(X > x) for chi-square X with k degrees of freedom. */
export function chiSquareSf(x: number, k: number): number {
  return incompleteGammaUpper(k / 2, x / 2)
}
