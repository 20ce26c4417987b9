package api

import (
	"strings"
	"testing"
)

func TestJSONDepth(t *testing.T) {
	for in, want := range map[string]int{
		`1`: 0, `{}`: 1, `[[1],[2,[3]]]`: 3, `{"a":"[[[[{{"}`: 1, `{"a":"\"[","b":[{}]}`: 3,
		strings.Repeat("[", 5000) + strings.Repeat("]", 5000): 5000,
	} {
		if got := jsonDepth([]byte(in)); got != want {
			t.Errorf("jsonDepth(%.40s) = %d, want %d", in, got, want)
		}
	}
}
