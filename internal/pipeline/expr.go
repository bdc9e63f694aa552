package pipeline

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// expr is a parsed `when` condition: references (params.NAME,
// steps.STEP.status, steps.STEP.outputs.NAME), string, number and boolean
// literals, == != < <= > >=, && || ! and parentheses.
type expr interface {
	eval(env func(ref string) (any, error)) (any, error)
	refs() []string
}

type (
	litExpr struct{ v any }
	refExpr struct{ name string }
	notExpr struct{ x expr }
	binExpr struct {
		op   string
		l, r expr
	}
)

func (e litExpr) eval(func(string) (any, error)) (any, error) { return e.v, nil }
func (e litExpr) refs() []string                              { return nil }
func (e refExpr) eval(env func(string) (any, error)) (any, error) {
	return env(e.name)
}
func (e refExpr) refs() []string { return []string{e.name} }
func (e notExpr) eval(env func(string) (any, error)) (any, error) {
	v, err := e.x.eval(env)
	return !truthy(v), err
}
func (e notExpr) refs() []string { return e.x.refs() }
func (e binExpr) refs() []string { return append(e.l.refs(), e.r.refs()...) }

func (e binExpr) eval(env func(string) (any, error)) (any, error) {
	l, err := e.l.eval(env)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "&&":
		if !truthy(l) {
			return false, nil
		}
		r, err := e.r.eval(env)
		return truthy(r), err
	case "||":
		if truthy(l) {
			return true, nil
		}
		r, err := e.r.eval(env)
		return truthy(r), err
	}
	r, err := e.r.eval(env)
	if err != nil {
		return nil, err
	}
	lf, lok := number(l)
	rf, rok := number(r)
	switch e.op {
	case "==", "!=":
		eq := fmt.Sprint(l) == fmt.Sprint(r)
		if lok && rok {
			eq = lf == rf
		}
		return eq == (e.op == "=="), nil
	}
	if !lok || !rok {
		return nil, fmt.Errorf("%s compares numbers; got %v and %v", e.op, l, r)
	}
	switch e.op {
	case "<":
		return lf < rf, nil
	case "<=":
		return lf <= rf, nil
	case ">":
		return lf > rf, nil
	}
	return lf >= rf, nil
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case nil:
		return false
	case string:
		return x != "" && x != "false" && x != "0"
	}
	f, ok := number(v)
	return !ok || f != 0
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// parseExpr parses a when condition.
func parseExpr(s string) (expr, error) {
	p := &exprParser{src: s}
	p.next()
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.err != nil {
		return nil, p.err
	}
	if p.tok != "" {
		return nil, fmt.Errorf("unexpected %q", p.tok)
	}
	return e, nil
}

type exprParser struct {
	src  string
	pos  int
	tok  string
	kind byte // 'o' operator/paren, 'i' identifier, 's' string, 'n' number, 0 end
	err  error
}

func (p *exprParser) next() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
	if p.pos >= len(p.src) {
		p.tok, p.kind = "", 0
		return
	}
	c := p.src[p.pos]
	switch {
	case strings.HasPrefix(p.src[p.pos:], "&&"), strings.HasPrefix(p.src[p.pos:], "||"),
		strings.HasPrefix(p.src[p.pos:], "=="), strings.HasPrefix(p.src[p.pos:], "!="),
		strings.HasPrefix(p.src[p.pos:], "<="), strings.HasPrefix(p.src[p.pos:], ">="):
		p.tok, p.kind = p.src[p.pos:p.pos+2], 'o'
		p.pos += 2
	case c == '(' || c == ')' || c == '!' || c == '<' || c == '>':
		p.tok, p.kind = string(c), 'o'
		p.pos++
	case c == '\'' || c == '"':
		end := strings.IndexByte(p.src[p.pos+1:], c)
		if end < 0 {
			p.err = errors.New("unterminated string")
			p.tok, p.kind = "", 0
			return
		}
		p.tok, p.kind = p.src[p.pos+1:p.pos+1+end], 's'
		p.pos += end + 2
	case c == '-' || c == '.' || (c >= '0' && c <= '9'):
		start := p.pos
		p.pos++
		for p.pos < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[p.pos]) >= 0 {
			p.pos++
		}
		p.tok, p.kind = p.src[start:p.pos], 'n'
	case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
		start := p.pos
		for p.pos < len(p.src) {
			d := p.src[p.pos]
			if d == '_' || d == '-' || d == '.' || (d|0x20 >= 'a' && d|0x20 <= 'z') || (d >= '0' && d <= '9') {
				p.pos++
				continue
			}
			break
		}
		p.tok, p.kind = p.src[start:p.pos], 'i'
	default:
		p.err = fmt.Errorf("unexpected character %q", c)
		p.tok, p.kind = "", 0
	}
}

func (p *exprParser) or() (expr, error) {
	l, err := p.and()
	for err == nil && p.tok == "||" {
		p.next()
		var r expr
		r, err = p.and()
		l = binExpr{"||", l, r}
	}
	return l, err
}

func (p *exprParser) and() (expr, error) {
	l, err := p.unary()
	for err == nil && p.tok == "&&" {
		p.next()
		var r expr
		r, err = p.unary()
		l = binExpr{"&&", l, r}
	}
	return l, err
}

func (p *exprParser) unary() (expr, error) {
	if p.tok == "!" && p.kind == 'o' {
		p.next()
		x, err := p.unary()
		return notExpr{x}, err
	}
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	switch p.tok {
	case "==", "!=", "<", "<=", ">", ">=":
		op := p.tok
		p.next()
		r, err := p.primary()
		return binExpr{op, l, r}, err
	}
	return l, nil
}

func (p *exprParser) primary() (expr, error) {
	if p.err != nil {
		return nil, p.err
	}
	tok, kind := p.tok, p.kind
	switch {
	case kind == 'o' && tok == "(":
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.tok != ")" {
			return nil, errors.New("missing )")
		}
		p.next()
		return e, nil
	case kind == 's':
		p.next()
		return litExpr{tok}, nil
	case kind == 'n':
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", tok)
		}
		p.next()
		return litExpr{f}, nil
	case kind == 'i' && (tok == "true" || tok == "false"):
		p.next()
		return litExpr{tok == "true"}, nil
	case kind == 'i':
		p.next()
		return refExpr{tok}, nil
	case kind == 0:
		return nil, errors.New("unexpected end of the condition")
	}
	return nil, fmt.Errorf("unexpected %q", tok)
}
