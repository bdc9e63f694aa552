// Package requestid holds the rule every layer applies to request ids:
// the HTTP pipeline accepts a client's X-Request-Id only when it follows
// it, and the prediction log's feedback names requests by it.
package requestid

// MaxLen bounds a request id.
const MaxLen = 128

// Valid reports whether id is 1 to MaxLen letters, digits and "-_.:".
func Valid(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}
