package requestid

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"", false}, {"a", true}, {"req-7_x.y:z", true}, {"8f3a2c-1b", true},
		{strings.Repeat("a", MaxLen), true}, {strings.Repeat("a", MaxLen+1), false},
		{"a b", false}, {"a/b", false}, {"ü", false}, {"a\n", false}, {`a"`, false},
	} {
		if got := Valid(tc.id); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}
