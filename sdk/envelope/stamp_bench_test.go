package envelope

import "testing"

var benchChunk = []byte(`{"type":"chunk","seq":7,"data":{"i":7,"running_total":28,"note":"a typical small chunk"}}`)

// BenchmarkStamp is the cost of giving a received event its time; its peer,
// BenchmarkStampByReencode, is the decode-set-encode it avoids.
func BenchmarkStamp(b *testing.B) {
	for b.Loop() {
		_ = Stamp(benchChunk, 1700000000123)
	}
}

func BenchmarkStampByReencode(b *testing.B) {
	for b.Loop() {
		e, _ := Unmarshal(benchChunk)
		e.TS = 1700000000123
		_, _ = Marshal(e)
	}
}
