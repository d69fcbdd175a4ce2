/** Labels of probabilities, shared by the analysis's reasons, the renderers and `abtool stats` (pure). */

/**
 * A confidence level as a percentage, as many digits as it has (0.95: `95%`, 0.999: `99.9%`), never
 * rounded up to `100%`; the same in every renderer and reason.
 */
export function confidencePercent(confidence: number): string {
  const v = 100 * confidence;
  // (a report from elsewhere may hold anything: never "Infinity%")
  return Number.isFinite(v) ? `${Number(v.toPrecision(12))}%` : `${confidence.toExponential(3)} (as a fraction)`;
}
