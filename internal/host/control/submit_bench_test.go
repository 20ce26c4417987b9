package control

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sous-run/sous/internal/host/store"
)

// BenchmarkSubmit measures Submit over the real store (an fsync per record) and a queue
// whose Enqueue makes its own durable write (an fdatasync, as the embedded broker's):
// overlapped, the two writes' times overlap; serial (the record waited for first, as
// before) they add up.
func BenchmarkSubmit(b *testing.B) {
	for _, mode := range []string{"overlapped", "serial"} {
		b.Run(mode, func(b *testing.B) {
			r := newRig(b, Options{})
			f, err := os.Create(filepath.Join(b.TempDir(), "queue"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			r.msg.Hook = func(_ context.Context, call, id string) error {
				if call != "Enqueue" {
					return nil
				}
				if _, err := f.WriteString(id); err != nil {
					return err
				}
				return f.Sync()
			}
			if mode == "serial" {
				r.s.startRecord = func(inv *store.Invocation) (*store.Invocation, bool, func() error, error) {
					got, created, wait, err := r.st.StartInvocation(inv)
					if err != nil {
						return nil, false, nil, err
					}
					werr := wait()
					return got, created, func() error { return werr }, nil
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := r.s.Submit(context.Background(), syncReq("")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
