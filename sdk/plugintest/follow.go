package plugintest

import (
	"context"

	"github.com/sous-run/sous/sdk"
)

// Stream is a following Read running in its own goroutine, for tests that publish
// while they read.
type Stream struct {
	// C carries every event read; it is closed when the Read ends.
	C   <-chan sdk.Event
	err error
}

// Follow reads tenant's invocation id after afterID ("" from the start), following the
// log until done, an error or ctx's end.
func Follow(ctx context.Context, e sdk.EventLog, tenant, id, afterID string) *Stream {
	ch := make(chan sdk.Event, 16)
	s := &Stream{C: ch}
	go func() {
		defer close(ch)
		s.err = e.Read(ctx, tenant, id, afterID, true, func(ev sdk.Event) error {
			select {
			case ch <- ev:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return s
}

// Err is why the Read ended (nil after done); call it once C is closed.
func (s *Stream) Err() error { return s.err }
