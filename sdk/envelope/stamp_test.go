package envelope

import "testing"

func TestStampAddsTimeAndKeepsTheRest(t *testing.T) {
	for _, raw := range []string{
		`{"type":"chunk","seq":1,"data":{"ts":"not this one"}}`,
		`{"type":"result","output":null}`,
		`{"type":"done"}`,
	} {
		b := Stamp([]byte(raw), 1700000000123)
		e, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("%s stamped is %s: %v", raw, b, err)
		}
		if e.TS != 1700000000123 {
			t.Errorf("%s stamped is %s: ts %d", raw, b, e.TS)
		}
		again, _ := Marshal(e)
		orig, _ := Unmarshal([]byte(raw))
		orig.TS = e.TS
		want, _ := Marshal(orig)
		if string(again) != string(want) {
			t.Errorf("%s stamped decodes to %s, want %s", raw, again, want)
		}
	}
	if got := string(Stamp([]byte(`{}`), 5)); got != `{"ts":5}` {
		t.Errorf("empty object stamped is %s", got)
	}
}
