package mlflow

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON parser built for request decoding. It parses a body once
// into a flat arena of nodes (no maps, no interface values, no reflection);
// strings without escapes are substrings of the body, numbers keep their
// literal text and are converted only when a field asks for them, with the
// field's path at hand for MLflow's error messages.
//
// It accepts exactly RFC 8259 JSON plus the bare tokens NaN, Infinity and
// -Infinity that Python's json module writes for non-finite floats (MLflow's
// Flask server reads those too). Invalid UTF-8 is rejected.

type kind uint8

const (
	kNull kind = iota
	kBool
	kNum
	kStr
	kArr
	kObj
)

// node is one JSON value. Children of arrays and objects are linked
// through first/next; an object member carries its name in key.
type node struct {
	kind  kind
	b     bool   // kBool
	s     string // kStr: the decoded string; kNum: the literal
	key   string // member name when the parent is an object
	first int32  // first child, -1 if none
	next  int32  // next sibling, -1 if none
}

// maxDepth bounds nesting; no MLflow request nests deeper than 4.
const maxDepth = 64

// syntaxError is a malformed body.
type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string {
	return e.msg + " at byte " + strconv.Itoa(e.off)
}

type parser struct {
	src   string
	pos   int
	depth int
	nodes []node
	sb    []byte // scratch for strings with escapes
}

// parse parses src as one JSON value into p.nodes (reset first); the root
// is node 0.
func (p *parser) parse(src string) error {
	p.src, p.pos, p.depth = src, 0, 0
	p.nodes = p.nodes[:0]
	if _, err := p.value(); err != nil {
		return err
	}
	p.ws()
	if p.pos < len(p.src) {
		return p.errf("unexpected data after the JSON value")
	}
	return nil
}

func (p *parser) errf(msg string) error { return &syntaxError{msg: msg, off: p.pos} }

func (p *parser) ws() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) add(k kind) int32 {
	p.nodes = append(p.nodes, node{kind: k, first: -1, next: -1})
	return int32(len(p.nodes) - 1)
}

func (p *parser) value() (int32, error) {
	p.ws()
	if p.pos >= len(p.src) {
		return -1, p.errf("unexpected end of JSON input")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.str()
		if err != nil {
			return -1, err
		}
		i := p.add(kStr)
		p.nodes[i].s = s
		return i, nil
	case c == 't':
		return p.literal("true", kBool, true)
	case c == 'f':
		return p.literal("false", kBool, false)
	case c == 'n':
		return p.literal("null", kNull, false)
	case c == 'N':
		return p.literal("NaN", kNum, false)
	case c == 'I':
		return p.literal("Infinity", kNum, false)
	case c == '-' || (c >= '0' && c <= '9'):
		if strings.HasPrefix(p.src[p.pos:], "-Infinity") {
			return p.literal("-Infinity", kNum, false)
		}
		return p.number()
	default:
		return -1, p.errf("invalid character " + strconv.QuoteRune(rune(c)) + " looking for a value")
	}
}

func (p *parser) literal(lit string, k kind, b bool) (int32, error) {
	if !strings.HasPrefix(p.src[p.pos:], lit) {
		return -1, p.errf("invalid literal")
	}
	p.pos += len(lit)
	i := p.add(k)
	p.nodes[i].b = b
	if k == kNum {
		p.nodes[i].s = lit
	}
	return i, nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errf("JSON nested too deeply")
	}
	return nil
}

func (p *parser) object() (int32, error) {
	if err := p.enter(); err != nil {
		return -1, err
	}
	p.pos++ // '{'
	obj := p.add(kObj)
	p.ws()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		p.depth--
		return obj, nil
	}
	prev := int32(-1)
	for {
		p.ws()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return -1, p.errf("expected a string object key")
		}
		key, err := p.str()
		if err != nil {
			return -1, err
		}
		p.ws()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return -1, p.errf("expected ':' after object key")
		}
		p.pos++
		child, err := p.value()
		if err != nil {
			return -1, err
		}
		p.nodes[child].key = key
		if prev < 0 {
			p.nodes[obj].first = child
		} else {
			p.nodes[prev].next = child
		}
		prev = child
		p.ws()
		if p.pos < len(p.src) {
			switch p.src[p.pos] {
			case ',':
				p.pos++
				continue
			case '}':
				p.pos++
				p.depth--
				return obj, nil
			}
		}
		return -1, p.errf("expected ',' or '}' in object")
	}
}

func (p *parser) array() (int32, error) {
	if err := p.enter(); err != nil {
		return -1, err
	}
	p.pos++ // '['
	arr := p.add(kArr)
	p.ws()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		p.depth--
		return arr, nil
	}
	prev := int32(-1)
	for {
		child, err := p.value()
		if err != nil {
			return -1, err
		}
		if prev < 0 {
			p.nodes[arr].first = child
		} else {
			p.nodes[prev].next = child
		}
		prev = child
		p.ws()
		if p.pos < len(p.src) {
			switch p.src[p.pos] {
			case ',':
				p.pos++
				continue
			case ']':
				p.pos++
				p.depth--
				return arr, nil
			}
		}
		return -1, p.errf("expected ',' or ']' in array")
	}
}

func (p *parser) number() (int32, error) {
	start := p.pos
	s := p.src
	i := p.pos
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		return -1, p.errf("invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			p.pos = i
			return -1, p.errf("invalid number")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			p.pos = i
			return -1, p.errf("invalid number")
		}
	}
	p.pos = i
	n := p.add(kNum)
	p.nodes[n].s = s[start:i]
	return n, nil
}

// str parses a string starting at the opening quote.
func (p *parser) str() (string, error) {
	s := p.src
	start := p.pos + 1
	i := start
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return s[start:i], nil
		case c == '\\':
			return p.strEscaped(start, i)
		case c < 0x20:
			p.pos = i
			return "", p.errf("invalid control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				p.pos = i
				return "", p.errf("invalid UTF-8 in string")
			}
			i += size
		}
	}
	p.pos = i
	return "", p.errf("unexpected end of JSON input in string")
}

// strEscaped decodes a string with escapes; s[start:i] has none.
func (p *parser) strEscaped(start, i int) (string, error) {
	s := p.src
	b := append(p.sb[:0], s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			p.sb = b
			return string(b), nil
		case c == '\\':
			if i+1 >= len(s) {
				p.pos = i
				return "", p.errf("unexpected end of JSON input in string")
			}
			e := s[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(s, i)
				if !ok {
					p.pos = i
					return "", p.errf("invalid \\u escape in string")
				}
				i += 4
				if utf16.IsSurrogate(r) {
					r2, ok := rune(0), false
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2, ok = hex4(s, i+2)
					}
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				p.pos = i - 1
				return "", p.errf("invalid escape in string")
			}
		case c < 0x20:
			p.pos = i
			return "", p.errf("invalid control character in string")
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				p.pos = i
				return "", p.errf("invalid UTF-8 in string")
			}
			b = append(b, s[i:i+size]...)
			i += size
		}
	}
	p.pos = i
	return "", p.errf("unexpected end of JSON input in string")
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// errNotObject is a request body that is valid JSON but not an object.
var errNotObject = errors.New("the request body must be a JSON object")
