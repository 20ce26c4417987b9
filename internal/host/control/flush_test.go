package control

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk/envelope"
)

// A caller that buffers its writes (SSE) gets each event flushed before Follow waits
// for the next: a chunk of a run that goes on is not held back until the run ends.
func TestFollowFlushesBeforeItWaits(t *testing.T) {
	r := newRig(t, Options{})
	rec := r.submit(t)
	var mu sync.Mutex
	var written, flushed []string
	flushedChunk := make(chan struct{})
	var once sync.Once
	ctx := WithFlush(context.Background(), func() {
		mu.Lock()
		defer mu.Unlock()
		flushed = append(flushed[:0], written...)
		for _, w := range flushed {
			if w == envelope.TypeChunk {
				once.Do(func() { close(flushedChunk) })
			}
		}
	})
	done := make(chan error, 1)
	go func() {
		done <- r.s.Follow(ctx, rec, "", func(_ string, e *envelope.Envelope, _ []byte) error {
			mu.Lock()
			defer mu.Unlock()
			written = append(written, e.Type)
			return nil
		})
	}()
	r.publish(t, rec.ID, status(envelope.TypeStatus, 1), &envelope.Envelope{Type: envelope.TypeChunk, Seq: 1, Data: []byte(`1`)})
	select {
	case <-flushedChunk: // the run has not ended: nothing else comes until we publish it
	case <-time.After(5 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the chunk was written but not flushed while Follow waited for more (written %v, flushed %v)", written, flushed)
	}
	r.publish(t, rec.ID, &envelope.Envelope{Type: envelope.TypeResult, Output: []byte(`1`)}, envelope.Done())
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
