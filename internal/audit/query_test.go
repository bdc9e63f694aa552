package audit

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

func TestMatchResource(t *testing.T) {
	cases := []struct {
		prefix, resource string
		want             bool
	}{
		{"models:/NAME", "models:/NAME", true},
		{"models:/NAME", "models:/NAME/3", true},
		{"models:/NAME", "models:/NAME/3/x", true},
		{"models:/NAME", "models:/NAME@champion", true},
		{"models:/NAME", "models:/NAMEX", false},
		{"models:/NAME", "models:/NAME-2", false},
		{"models:/NAME", "models:/NAM", false},
		{"models:/NAME", "models:/name", false},
		{"models:/NAME", "runs:/NAME", false},
		{"models:/NAME/3", "models:/NAME", false},
		{"models:/NAME/3", "models:/NAME/30", false},
		{"models:", "models:/x", true},
		{"", "anything", true},
		{"", "", true},
		{"x", "", false},
	}
	for _, tc := range cases {
		if got := MatchResource(tc.prefix, tc.resource); got != tc.want {
			t.Errorf("MatchResource(%q, %q) = %v", tc.prefix, tc.resource, got)
		}
		if got := inRanges(tc.prefix, tc.resource); tc.prefix != "" && got != tc.want {
			t.Errorf("ResourceRanges(%q) hold %q: %v", tc.prefix, tc.resource, got)
		}
	}
}

// inRanges is MatchResource as a store computes it: equality or one of
// ResourceRanges, comparing bytes.
func inRanges(prefix, resource string) bool {
	if resource == prefix {
		return true
	}
	for _, r := range ResourceRanges(prefix) {
		if resource >= r[0] && resource < r[1] {
			return true
		}
	}
	return false
}

func TestNormalized(t *testing.T) {
	cases := []struct{ in, want Query }{
		{Query{}, Query{Limit: DefaultListLimit}},
		{Query{Limit: MaxListLimit + 1}, Query{Limit: MaxListLimit}},
		{Query{Limit: -1, AfterSeq: -5, BeforeSeq: -2}, Query{Limit: DefaultListLimit}},
		{Query{Resource: "models:/m/", Limit: 5}, Query{Resource: "models:/m", Limit: 5}},
		{Query{Resource: "models:/"}, Query{Resource: "models:", Limit: DefaultListLimit}},
	}
	for _, tc := range cases {
		if got := tc.in.Normalized(); got != tc.want {
			t.Errorf("%+v.Normalized() = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	ok := []struct {
		in   string
		want Query
	}{
		{"", Query{Limit: DefaultListLimit}},
		{"resource=models:/m&actor=bob&after=3&before=9&limit=5&order=desc",
			Query{Resource: "models:/m", Actor: "bob", AfterSeq: 3, BeforeSeq: 9, Limit: 5, NewestFirst: true}},
		{"order=asc&limit=10000", Query{Limit: 10000}},
	}
	for _, tc := range ok {
		v, _ := url.ParseQuery(tc.in)
		got, err := ParseQuery(v)
		if err != nil || got != tc.want {
			t.Errorf("ParseQuery(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"after=x", "after=-1", "before=1.5", "limit=10001", "limit=99999999999999999999", "order=up"} {
		v, _ := url.ParseQuery(bad)
		if _, err := ParseQuery(v); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("ParseQuery(%q) error = %v, want invalid argument", bad, err)
		}
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	l := newTestLog(t, newMemStore(), testKey(t), Options{})
	for i, r := range []string{"models:/m", "models:/m/1", "models:/m@prod", "models:/mx", "runs:/r"} {
		e := ev(i)
		e.Resource = r
		if err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[Query]string{
		{Resource: "models:/m"}:                        "[1 2 3]",
		{Resource: "models:/m/"}:                       "[1 2 3]",
		{Resource: "models:/"}:                         "[1 2 3 4]",
		{Resource: "models:/m", NewestFirst: true}:     "[3 2 1]",
		{Resource: "models:/m", Limit: 1, AfterSeq: 1}: "[2]",
		{}:                "[1 2 3 4 5]",
		{Actor: "nobody"}: "[]",
	} {
		got, err := l.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, r := range got {
			seqs = append(seqs, r.Seq)
		}
		if fmt.Sprint(seqs) != want {
			t.Errorf("List(%+v) = %v, want %s", q, seqs, want)
		}
	}
}

func TestRequestEvents(t *testing.T) {
	base := Event{Actor: "bob", Action: "POST /api/2.0/mlflow/registered-models/alias", Resource: "/api/2.0/mlflow/registered-models/alias",
		RequestDigest: "d", Status: 200, RequestID: "r"}
	if got := RequestEvents(base, nil); len(got) != 1 || got[0] != base {
		t.Fatalf("no changes: %+v", got)
	}
	got := RequestEvents(base, []Change{
		{Action: "registry.set_alias", Resource: "models:/m@prod", Before: "b", After: "a"},
		{Action: "registry.update_version", Resource: "models:/m/3"},
	})
	want0 := Event{Actor: "bob", Action: "registry.set_alias", Resource: "models:/m@prod", RequestDigest: "d", Before: "b", After: "a", Status: 200, RequestID: "r"}
	if len(got) != 2 || got[0] != want0 || got[1].Action != "registry.update_version" || got[1].Before != "" || got[1].Actor != "bob" {
		t.Fatalf("changes: %+v", got)
	}
}
