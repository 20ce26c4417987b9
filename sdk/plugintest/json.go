package plugintest

import (
	"encoding/json"
	"reflect"
)

// SameJSON reports whether a and b are the same JSON value. A backend may store a
// result as a map (codeQ does), so key order and spacing are not part of the contract.
func SameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
