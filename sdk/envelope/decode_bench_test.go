package envelope

import (
	"encoding/json"
	"strings"
	"testing"
)

// BenchmarkUnmarshal compares Unmarshal with encoding/json on a small result and on a
// 1 MiB one (an object of strings, as the bench's large input is echoed).
func BenchmarkUnmarshal(b *testing.B) {
	big := `{"type":"result","output":{"data":"` + strings.Repeat("abcdefgh", 1<<17) + `","n":[1,2,3]},"duration_ms":1}`
	for _, c := range []struct{ name, env string }{
		{"small", `{"type":"result","output":{"ping":1},"duration_ms":0}`},
		{"1MiB", big},
	} {
		raw := []byte(c.env)
		b.Run(c.name+"/sous", func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for range b.N {
				if _, err := Unmarshal(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/encoding-json", func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for range b.N {
				var e Envelope
				if err := json.Unmarshal(raw, &e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
