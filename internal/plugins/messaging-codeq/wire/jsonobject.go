package wire

import "github.com/sous-run/sous/sdk/rawjson"

// IsJSONObject reports whether b is one JSON object (what COMPLETED's result_json must
// be): the same answer as decoding it into a map, without building the map.
func IsJSONObject(b []byte) bool {
	for i, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return rawjson.Valid(b[i:])
		}
		return false
	}
	return false
}
