package dataset

import (
	"bytes"

	"fmt"
	"strconv"
	"time"
	"unsafe"
)

// ColumnType is the inferred type of a column.
type ColumnType uint8

// Column types. Promotion: integer and float values make a float column;
// any other mix, or any value that parses as none of them, makes a string
// column. Empty fields are nulls and do not take part; a column of nulls
// only is a string column.
const (
	TypeString ColumnType = iota
	TypeInteger
	TypeFloat
	TypeBoolean
	TypeDatetime
)

var typeNames = [...]string{"string", "integer", "float", "boolean", "datetime"}

func (t ColumnType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("ColumnType(%d)", t)
}

// Numeric reports whether values of the type have numeric statistics
// (datetimes count, as Unix seconds).
func (t ColumnType) Numeric() bool {
	return t == TypeInteger || t == TypeFloat || t == TypeDatetime
}

// MarshalText encodes the type by name.
func (t ColumnType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText decodes a type name.
func (t *ColumnType) UnmarshalText(b []byte) error {
	for i, n := range typeNames {
		if string(b) == n {
			*t = ColumnType(i)
			return nil
		}
	}
	return fmt.Errorf("dataset: unknown column type %q", b)
}

// kind bits: which kinds of value a column has shown.
const (
	kindInt uint8 = 1 << iota
	kindFloat
	kindBool
	kindTime
	kindString
)

// typeOf maps a set of kinds to the column type.
func typeOf(kinds uint8) ColumnType {
	switch {
	case kinds&kindString != 0, kinds == 0:
		return TypeString
	case kinds&^(kindInt|kindFloat) == 0:
		if kinds&kindFloat != 0 {
			return TypeFloat
		}
		return TypeInteger
	case kinds == kindBool:
		return TypeBoolean
	case kinds == kindTime:
		return TypeDatetime
	}
	return TypeString
}

// Datetime layouts, tried in order.
var timeLayouts = [...]string{time.RFC3339Nano, time.DateOnly, time.DateTime}

// classify returns the kind of a non-empty field and, for numbers and
// datetimes, its value (Unix seconds for datetimes). It does not allocate.
func classify(v []byte) (uint8, float64) {
	c := v[0]
	if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' {
		if x, ok := parseInt(v); ok {
			return kindInt, float64(x)
		}
		if x, ok := parseFloat(v); ok {
			return kindFloat, x
		}
		if len(v) >= 10 && v[4] == '-' {
			if t, ok := parseTime(v); ok {
				return kindTime, float64(t.UnixNano()) / 1e9
			}
		}
		return kindString, 0
	}
	if _, ok := parseBool(v); ok {
		return kindBool, 0
	}
	return kindString, 0
}

// parseInt reads [+-]digits into an int64.
func parseInt(v []byte) (int64, bool) {
	i, neg := 0, false
	if v[0] == '-' || v[0] == '+' {
		neg, i = v[0] == '-', 1
	}
	if i == len(v) || len(v)-i > 18 {
		if len(v)-i > 18 {
			x, err := strconv.ParseInt(unsafeString(v), 10, 64)
			return x, err == nil && isDigits(v[i:])
		}
		return 0, false
	}
	var x int64
	for ; i < len(v); i++ {
		d := v[i] - '0'
		if d > 9 {
			return 0, false
		}
		x = x*10 + int64(d)
	}
	if neg {
		x = -x
	}
	return x, true
}

func isDigits(v []byte) bool {
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(v) > 0
}

// exactPow10 are the powers of ten a float64 holds exactly (read-only).
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat reads a decimal number: [+-]digits[.digits][e[+-]digits].
// Special values (inf, nan), hexadecimal and underscores are not numbers
// here. The common case of at most 15 significant digits and no exponent
// is the exact Clinger fast path (integer mantissa ÷ exact power of ten,
// one rounding), the rest goes to strconv.ParseFloat on a no-copy view;
// out-of-range values are not numbers.
func parseFloat(v []byte) (float64, bool) {
	i, neg := 0, false
	if v[0] == '-' || v[0] == '+' {
		neg, i = v[0] == '-', 1
	}
	var mant uint64
	digits, frac := 0, 0
	dot, seen, slow := false, false, false
	for ; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			seen = true
			if dot {
				frac++
			}
			if mant == 0 && c == '0' {
				continue
			}
			if digits++; digits > 15 {
				slow = true
			}
			mant = mant*10 + uint64(c-'0')
		case c == '.' && !dot:
			dot = true
		case (c == 'e' || c == 'E') && seen:
			return parseExp(v, i)
		default:
			return 0, false
		}
	}
	if !seen {
		return 0, false
	}
	if slow || frac >= len(exactPow10) {
		x, err := strconv.ParseFloat(unsafeString(v), 64)
		return x, err == nil
	}
	x := float64(mant) / exactPow10[frac]
	if neg {
		x = -x
	}
	return x, true
}

// parseExp checks the exponent part starting at v[i] ('e' or 'E') and
// parses the whole number with strconv.
func parseExp(v []byte, i int) (float64, bool) {
	j := i + 1
	if j < len(v) && (v[j] == '+' || v[j] == '-') {
		j++
	}
	if !isDigits(v[j:]) {
		return 0, false
	}
	x, err := strconv.ParseFloat(unsafeString(v), 64)
	return x, err == nil
}

// parseBool accepts true and false in any letter case.
func parseBool(v []byte) (bool, bool) {
	switch {
	case len(v) == 4 && bytes.EqualFold(v, []byte("true")):
		return true, true
	case len(v) == 5 && bytes.EqualFold(v, []byte("false")):
		return false, true
	}
	return false, false
}

// parseTime accepts RFC 3339, 2006-01-02 and 2006-01-02 15:04:05 (UTC).
func parseTime(v []byte) (time.Time, bool) {
	s := unsafeString(v)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// unsafeString views b as a string without copying; the string must not
// outlive b's contents and must not be retained.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
