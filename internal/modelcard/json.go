package modelcard

import (
	"bytes"
	"encoding/json"
)

// JSON renders the card as indented JSON (two spaces, a final newline).
// Field order is the declaration order of the types and every list is
// sorted by Build, so equal cards give equal bytes. '<', '>' and '&' are
// written as \u escapes, so the document is safe to embed in HTML.
func JSON(c *Card) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
