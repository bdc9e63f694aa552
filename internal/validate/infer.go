package validate

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// InferOptions tune Infer. The zero value is usable.
type InferOptions struct {
	// Name is the suite name; empty means "inferred".
	Name string
	// NullValues are the cells read as null; nil means [""].
	NullValues []string
	// Widen widens numeric between bounds by this fraction of the observed
	// range on each side (0 keeps [min, max]).
	Widen float64
	// MaxSetSize is the largest distinct count for which a string column
	// gets an in_set check; 0 means 20.
	MaxSetSize int
}

type colStats struct {
	nulls, nonnull int
	isInt, isFloat bool
	isBool, isTime bool
	min, max       float64
	distinct       map[string]bool // up to MaxSetSize+1 values
	hashes         map[uint64]bool // all values, for uniqueness
	dup            bool
}

// Infer reads rows once and proposes a starting suite: column types and
// nullability, between [min, max] for numeric columns, in_set for string
// columns with few distinct values, unique for int, string and timestamp
// columns whose values are all distinct (floats are skipped: distinct
// measurements are not a key), and a row count within ±50%. Non-nullable
// columns are expressed by nullable: false in the schema, which Validate
// turns into expect_column_values_to_not_be_null.
func Infer(ctx context.Context, rows Rows, opts InferOptions) (*Suite, error) {
	if opts.MaxSetSize <= 0 {
		opts.MaxSetSize = 20
	}
	if opts.Name == "" {
		opts.Name = "inferred"
	}
	nulls := newNullSet(opts.NullValues)
	cols := rows.Columns()
	stats := make([]*colStats, len(cols))
	for i := range stats {
		stats[i] = &colStats{isInt: true, isFloat: true, isBool: true, isTime: true,
			distinct: map[string]bool{}, hashes: map[uint64]bool{}}
	}
	seed := maphash.MakeSeed()
	n := 0
	for {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		cells, line, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("infer: %w", err)
		}
		if len(cells) != len(cols) {
			return nil, errdefs.InvalidArgument("infer: line %d: %d fields, want %d", line, len(cells), len(cols))
		}
		n++
		for i, v := range cells {
			st := stats[i]
			if nulls[v] {
				st.nulls++
				continue
			}
			st.observe(v, seed, opts.MaxSetSize)
		}
	}

	s := &Suite{Name: opts.Name, NullValues: opts.NullValues, Strict: true}
	for i, name := range cols {
		st := stats[i]
		t := st.typ()
		s.Columns = append(s.Columns, Column{Name: name, Type: t, Nullable: st.nulls > 0 || n == 0})
		switch {
		case st.nonnull == 0:
		case t == TypeInt || t == TypeFloat:
			lo, hi := st.min, st.max
			if w := opts.Widen * (hi - lo); w > 0 {
				lo, hi = lo-w, hi+w
			}
			if t == TypeInt {
				lo, hi = math.Floor(lo), math.Ceil(hi)
			}
			s.Checks = append(s.Checks, Check{Column: name, Between: &Range{Min: ptr(lo), Max: ptr(hi)}})
		case t == TypeString && len(st.distinct) <= opts.MaxSetSize && len(st.distinct) < st.nonnull:
			set := make([]string, 0, len(st.distinct))
			for v := range st.distinct {
				set = append(set, v)
			}
			sort.Strings(set)
			s.Checks = append(s.Checks, Check{Column: name, InSet: set})
		}
		if st.nonnull > 1 && !st.dup && (t == TypeInt || t == TypeString || t == TypeTimestamp) {
			s.Checks = append(s.Checks, Check{Column: name, Unique: true})
		}
	}
	lo, hi := math.Floor(float64(n)*0.5), math.Ceil(float64(n)*1.5)
	s.Checks = append(s.Checks, Check{Table: "row_count", Between: &Range{Min: ptr(lo), Max: ptr(hi)}})
	return s, nil
}

func (st *colStats) observe(v string, seed maphash.Seed, maxSet int) {
	st.nonnull++
	if st.isInt {
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			st.isInt = false
		}
	}
	if st.isFloat {
		if f, ok := parseNumber(v); ok {
			if st.nonnull == 1 || f < st.min {
				st.min = f
			}
			if st.nonnull == 1 || f > st.max {
				st.max = f
			}
		} else {
			st.isFloat = false
		}
	}
	if st.isBool && !parseBool(v) {
		st.isBool = false
	}
	if st.isTime {
		if _, ok := parseTime(v); !ok {
			st.isTime = false
		}
	}
	if len(st.distinct) <= maxSet {
		st.distinct[v] = true
	}
	if !st.dup {
		h := maphash.String(seed, v)
		if st.hashes[h] {
			st.dup = true
			st.hashes = nil
		} else {
			st.hashes[h] = true
		}
	}
}

func (st *colStats) typ() Type {
	switch {
	case st.nonnull == 0:
		return TypeString
	case st.isInt:
		return TypeInt
	case st.isFloat:
		return TypeFloat
	case st.isBool:
		return TypeBool
	case st.isTime:
		return TypeTimestamp
	}
	return TypeString
}
