// Package validate checks a stream of tabular rows against a data validation
// suite written in YAML and reports one result per expectation, shaped like
// Great Expectations' validation results (SUMMARY result format).
//
// # Suite syntax
//
//	suite: transactions            # name (required)
//	null_values: ["", "NA"]        # cells read as null; default [""]
//	columns:                       # schema (optional)
//	  - {name: amount, type: float, nullable: false}
//	  - {name: country, type: string}   # nullable defaults to true
//	strict: true                   # no columns beyond the schema allowed
//	checks:
//	  - {column: amount, not_null: true, mostly: 0.99}
//	  - {column: amount, between: {min: 0, max: 10000}, severity: warn}
//	  - {column: country, in_set: [DE, FR, US]}
//	  - {column: email, regex: '^[^@]+@[^@]+$', mostly: 0.95}
//	  - {column: id, unique: true}
//	  - {columns: [user, day], unique: true}
//	  - {table: row_count, between: {min: 1000}}
//	  - {column: amount, mean: {min: 10, max: 200}}
//	  - {column: amount, quantile: {q: 0.95, max: 500}}
//	  - {column: amount, null_fraction: {max: 0.01}}
//	  - {column: ts, fresh_within: 24h}
//
// Column types are string, int, float, bool and timestamp (RFC 3339,
// "2006-01-02 15:04:05" or "2006-01-02"). Each check names exactly one target
// (column, columns or table: row_count) and exactly one assertion. A range
// ({min, max, strict_min, strict_max}) is inclusive unless strict_* is true;
// either bound may be left out. severity is error (default) or warn; a
// failed warn check does not fail the suite. fresh_within takes a Go duration
// or a number of days ("7d"). Unknown keys, YAML aliases, invalid regular
// expressions and malformed values are parse errors carrying line:column.
//
// # Semantics (following Great Expectations)
//
//   - Row checks (between, in_set, regex, unique, type) ignore null cells;
//     mostly is the fraction of non-null cells that must pass, and a column
//     with no non-null cells passes vacuously. not_null counts every row.
//   - unexpected_percent is relative to non-null cells (as in GE), and
//     unexpected_percent_total to all rows. Percentages are 0–100.
//   - partial_unexpected_list holds the first 20 unexpected raw cells (null
//     for not_null) and partial_unexpected_index_list their 0-based data row
//     indices (the header is not a row; for a CSV without multi-line cells
//     the file line is index+2). For unique checks both lists are in the
//     order duplicates were discovered, then sorted by row index.
//   - unique uses 64-bit hashes of the values (a collision could hide a
//     duplicate with probability ~n²/2⁶⁴); all occurrences of a duplicated
//     value are unexpected, as in GE. Compound unique skips rows whose
//     columns are all null.
//   - Aggregates (min, max, mean, quantile, null_fraction) report
//     observed_value; quantiles are exact (linear interpolation, numpy's
//     default) over at most Options.MaxQuantileValues values, beyond which
//     the check fails with an exception rather than approximating.
//   - A check naming a column absent from the data fails with exception_info
//     instead of aborting the run. A row with the wrong number of fields is
//     an error naming its line.
//
// Infer builds a starting suite from data; Suite.MarshalYAML writes it back.
package validate
