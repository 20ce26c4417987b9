package wire

import (
	"encoding/json"
	"testing"
)

// TestIsJSONObjectMatchesDecoding: IsJSONObject accepts exactly what decoding into a map
// accepts with a non-nil map.
func TestIsJSONObjectMatchesDecoding(t *testing.T) {
	for _, s := range []string{`{}`, ` {"a":1} `, "\n\t{\"a\":[1,{}]}\r\n", `null`, ` null`, `[]`, `"x"`, `1`, ``, ` `,
		`{`, `{"a":1}x`, `{"a":1} {}`, `{"a":}`, `x{}`, `{"a":"\u00e9"}`, `{"a":"\x"}`} {
		var m map[string]json.RawMessage
		want := json.Unmarshal([]byte(s), &m) == nil && m != nil
		if got := IsJSONObject([]byte(s)); got != want {
			t.Errorf("IsJSONObject(%q) = %v, decoding says %v", s, got, want)
		}
	}
}
