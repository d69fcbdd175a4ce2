#!/usr/bin/env bash
# Runs the shared conformance checker on the procedures it knows. The checker reads every file of the
# directory it is given, and ../shared/reference also holds README.md, nist_strd_univariate.json and
# tails.json, which are not procedures (it fails on them), so the procedure files are copied aside first.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=../shared/reference
tmp=$(mktemp -d)
scratch=$(mktemp -d)
trap 'rm -rf "$tmp" "$scratch"' EXIT
# the checker keeps its own temporary files in a directory it does not remove: put it in one of ours
export TMPDIR="$scratch"
for p in two_proportion_ztest welch_ttest mann_whitney_u ks_two_sample bootstrap_ci wilson_interval srm_chisquare multiple_testing sample_size; do
  cp "$ref/$p.json" "$tmp/"
done
python3 ../shared/tools/conformance.py "$tmp" "node bin/abtool.js" "$@"
