package remote

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// maxDepth bounds the nesting of a runtime's answer.
const maxDepth = 64

// scanner reads a JSON document in place, without building a tree, so a
// large answer costs no more memory than its bytes. It is lenient where
// Python servers are: the bare tokens NaN, Infinity and -Infinity (what
// Python's json.dumps writes for non-finite floats) read as numbers.
// Every method checks bounds; none panics on any input.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-blank byte, 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) errf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", s.i, fmt.Sprintf(format, args...))
}

// what names the value starting at the next byte, for messages.
func (s *scanner) what() string {
	switch c := s.peek(); {
	case c == 0:
		return "the end of the answer"
	case c == '{':
		return "an object"
	case c == '[':
		return "a list"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	default:
		end := min(len(s.b), s.i+24)
		return strconv.Quote(string(s.b[s.i:end]))
	}
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return s.errf("expected %q, got %s", c, s.what())
	}
	s.i++
	return nil
}

// end checks that nothing but blanks follows.
func (s *scanner) end() error {
	if s.peek() != 0 {
		return s.errf("unexpected data after the answer")
	}
	return nil
}

// str reads a string.
func (s *scanner) str() (string, error) {
	if s.peek() != '"' {
		return "", s.errf("expected a string, got %s", s.what())
	}
	start := s.i
	s.i++
	escaped := false
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '\\':
			escaped = true
			s.i += 2
			continue
		case c == '"':
			s.i++
			raw := s.b[start:s.i]
			if !escaped {
				return string(raw[1 : len(raw)-1]), nil
			}
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return "", s.errf("malformed string")
			}
			return v, nil
		case c < 0x20:
			return "", s.errf("control character in a string")
		}
		s.i++
	}
	return "", s.errf("unterminated string")
}

// word consumes lit when it comes next.
func (s *scanner) word(lit string) bool {
	if strings.HasPrefix(string(s.b[s.i:min(len(s.b), s.i+len(lit))]), lit) {
		s.i += len(lit)
		return true
	}
	return false
}

// num reads one value as a number: a JSON number, NaN, Infinity,
// -Infinity, null (NaN), true/false (1/0), or a string holding one of
// these (Ferry's own decoder takes the same).
func (s *scanner) num() (float64, error) {
	switch c := s.peek(); c {
	case 'n':
		if s.word("null") {
			return math.NaN(), nil
		}
	case 't':
		if s.word("true") {
			return 1, nil
		}
	case 'f':
		if s.word("false") {
			return 0, nil
		}
	case 'N':
		if s.word("NaN") {
			return math.NaN(), nil
		}
	case 'I':
		if s.word("Infinity") {
			return math.Inf(1), nil
		}
	case '"':
		start := s.i
		v, err := s.str()
		if err != nil {
			return 0, err
		}
		if f, ok := numericString(v); ok {
			return f, nil
		}
		s.i = start
		return 0, s.errf("expected a number, got the string %q", truncate(v, 40))
	case '-', '+', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if c == '-' && s.i+1 < len(s.b) && s.b[s.i+1] == 'I' {
			s.i++
			if s.word("Infinity") {
				return math.Inf(-1), nil
			}
			s.i--
			break
		}
		start := s.i
		for s.i < len(s.b) && isNumByte(s.b[s.i]) {
			s.i++
		}
		f, err := strconv.ParseFloat(string(s.b[start:s.i]), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			s.i = start
			return 0, s.errf("malformed number %q", truncate(string(s.b[start:min(len(s.b), start+40)]), 40))
		}
		return f, nil // out of range: ±Inf or 0, as Python reads it
	}
	return 0, s.errf("expected a number, got %s", s.what())
}

func isNumByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

func numericString(v string) (float64, bool) {
	switch v {
	case "NaN", "nan", "":
		return math.NaN(), true
	case "Infinity", "inf":
		return math.Inf(1), true
	case "-Infinity", "-inf":
		return math.Inf(-1), true
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// skip consumes one value of any kind, checking its syntax.
func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return s.errf("nested deeper than %d", maxDepth)
	}
	switch s.peek() {
	case '{':
		return s.object(func(string) error { return s.skip(depth + 1) })
	case '[':
		return s.array(func(int) error { return s.skip(depth + 1) })
	case '"':
		_, err := s.str()
		return err
	default:
		_, err := s.num()
		return err
	}
}

// object reads an object, calling member for each key; member must
// consume the value.
func (s *scanner) object(member func(key string) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := member(k); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.errf("expected ',' or '}' in an object, got %s", s.what())
		}
	}
}

// array reads a list, calling elem for each element; elem must consume
// it.
func (s *scanner) array(elem func(i int) error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for i := 0; ; i++ {
		if err := elem(i); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.errf("expected ',' or ']' in a list, got %s", s.what())
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
