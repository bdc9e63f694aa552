package predlog

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/requestid"
)

// Token renders c as an opaque page token ("" for the zero Cursor).
func (c Cursor) Token() string {
	if c.IsZero() {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.Time, 10) + " " + c.RequestID))
}

// ParseCursor reads a page token made by Token; "" is the start.
func ParseCursor(token string) (Cursor, error) {
	if token == "" {
		return Cursor{}, nil
	}
	bad := errdefs.InvalidArgument("Invalid value for parameter 'page_token': not a token this server issued.")
	if len(token) > 256 {
		return Cursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return Cursor{}, bad
	}
	ts, id, ok := strings.Cut(string(raw), " ")
	if !ok || !requestid.Valid(id) {
		return Cursor{}, bad
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || t < 0 || strconv.FormatInt(t, 10) != ts {
		return Cursor{}, bad
	}
	return Cursor{Time: t, RequestID: id}, nil
}
