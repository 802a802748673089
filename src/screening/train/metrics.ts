/** Ranking metrics for binary scores (higher = more likely positive). */

/** Area under the ROC curve, ties counted as half (Mann-Whitney U). */
export function auroc(scores: number[], labels: number[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let nPos = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[idx[k]] === 1) {
      rankSumPos += avgRank;
      nPos++;
    }
    i = j + 1;
  }
  const nNeg = idx.length - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Lowest threshold t such that the share of negatives with score >= t is at
 * most `fpr` (flagging is score >= t); TPR at that threshold.
 */
export function tprAtFpr(scores: number[], labels: number[], fpr: number): { threshold: number; tpr: number; fpr: number } {
  const neg = scores.filter((_, i) => labels[i] === 0).sort((a, b) => b - a);
  const pos = scores.filter((_, i) => labels[i] === 1);
  const allowed = Math.floor(fpr * neg.length + 1e-9);
  // Threshold just above the (allowed+1)-th highest negative.
  let threshold: number;
  if (neg.length === 0) threshold = -Infinity;
  else if (allowed >= neg.length) threshold = -Infinity;
  else threshold = nextUp(neg[allowed]);
  const tp = pos.filter((s) => s >= threshold).length;
  const fp = neg.filter((s) => s >= threshold).length;
  return { threshold, tpr: pos.length ? tp / pos.length : NaN, fpr: neg.length ? fp / neg.length : NaN };
}

function nextUp(x: number): number {
  if (!Number.isFinite(x)) return x;
  return x + Math.max(Math.abs(x) * 1e-9, 1e-9);
}

export function rate(flags: boolean[]): number {
  return flags.length ? flags.filter(Boolean).length / flags.length : NaN;
}

export function pct(x: number, digits = 1): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : 'n/a';
}
