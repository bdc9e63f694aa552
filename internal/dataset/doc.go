// Package dataset profiles tabular datasets for Ferry's dataset versions
// (`ferry data add`, `ferry data diff`).
//
// [ProfileCSV] reads a CSV file once, streaming, and computes at the same time
// the SHA-256 content address of its bytes, the row count and, per column,
// the inferred type, null and distinct counts, min/max/mean/std, quantiles
// from a mergeable KLL sketch, a 20-bin histogram built from that sketch, and
// the most frequent categories. [Profile.Schema] derives a [Schema] that
// serialises to MLflow's `mlflow_colspec` form, so a dataset version can be
// logged as an MLflow dataset input. [Diff] compares two profiles: schema
// changes plus distribution shifts (PSI, Kolmogorov–Smirnov, mean/std/null
// changes) computed from the profiles alone, without the data.
//
// Approximations, all documented where they are made:
//
//   - Distinct counts are exact up to [DistinctExactLimit] distinct values,
//     then a HyperLogLog estimate with 2^14 registers (standard error about
//     0.81%).
//   - Quantiles and histograms are exact up to [SketchExactLimit] non-null
//     values, then come from a KLL sketch with k = [SketchK] whose
//     normalised rank error stays below [SketchRankError] in the tests.
//   - Top categories are exact up to [DistinctExactLimit] distinct values,
//     then a Space-Saving summary of [TopCapacity] counters (counts may be
//     overestimated by at most the smallest counter).
//
// The package holds no state; every function is safe for concurrent use.
package dataset
