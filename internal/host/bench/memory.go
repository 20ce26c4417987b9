package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/gcfloor"
	"github.com/sous-run/sous/internal/host/server"
)

// SlowReaders is the host's memory while clients that never read stream a chunk-heavy
// function: the event log caps (limits.max_event_bytes per invocation,
// limits.max_embedded_events_bytes in all) bound what the host buffers.
type SlowReaders struct {
	Readers       int
	ProducedBytes int64 // chunk bytes the functions yielded in all
	BaselineRSS   int64 // bytes, before the readers connect
	PeakRSS       int64 // bytes, the most seen while they hang
	PeakHeap      int64 // bytes of live and not yet collected Go heap, the most seen
}

// chunky yields n chunks of size bytes.
const chunky = `def handler(input, ctx):
    chunk = "x" * int(input["size"])
    for i in range(int(input["n"])):
        yield chunk
    return {"n": int(input["n"])}
`

// slowReaders deploys chunky, opens o.SlowReaders SSE invocations that read nothing
// after the headers, waits until every run has finished, and samples this process's
// RSS (the host runs in it) meanwhile.
func slowReaders(ctx context.Context, o *Options, h string, c *client.Client, tok string) (*SlowReaders, error) {
	req := &wire.DeployRequest{Runtime: "python", Entry: "main.py", TimeoutMS: 120000,
		Files: map[string]string{"main.py": base64.StdEncoding.EncodeToString([]byte(chunky))}}
	if _, err := c.Deploy(ctx, "bench-chunky", req); err != nil {
		return nil, err
	}
	const size = 64 << 10
	res := &SlowReaders{Readers: o.SlowReaders, ProducedBytes: int64(o.SlowReaders) * int64(o.SlowChunks) * size, BaselineRSS: rss()}
	o.say("· embedded: %d slow readers of %d × 64 KiB chunks each", o.SlowReaders, o.SlowChunks)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ids := make([]string, o.SlowReaders)
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	body := fmt.Sprintf(`{"size":%d,"n":%d}`, size, o.SlowChunks)
	if !strings.Contains(h, "://") {
		h = "http://" + h
	}
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := http.NewRequestWithContext(rctx, "POST", h+"/v1/functions/bench-chunky/invoke", bytes.NewReader([]byte(body)))
			if err != nil {
				errMu.Lock()
				firstErr = err
				errMu.Unlock()
				return
			}
			r.Header.Set("Authorization", "Bearer "+tok)
			r.Header.Set("Accept", "text/event-stream")
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				errMu.Lock()
				firstErr = err
				errMu.Unlock()
				return
			}
			ids[i] = resp.Header.Get("Sous-Invocation-Id") // the body is never read
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("slow readers: %w", firstErr)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for _, id := range ids {
		for {
			res.sample()
			rec, err := c.Invocation(ctx, id)
			if err == nil && rec.Status.Final() {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("slow readers: invocation %s did not finish in 5 minutes", id)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	res.sample()
	return res, nil
}

// awaitCollected forces collections (for up to 5 s) until a stack's closed host is
// collected, so the next stack's memory figures hold only its own host: this process
// runs them one after another, and a host is still reachable for a while after it
// closes (left to the runtime, the embedded stack's event log of the slow readers'
// chunks was still in the heap when the Redis stack sampled its memory: 206–227 MiB of
// host RSS against 58 MiB once collected).
func (o *Options) awaitCollected(stack string, host weak.Pointer[server.Host]) {
	for end := time.Now().Add(5 * time.Second); host.Value() != nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			o.say("  the %s host is still reachable 5 s after it closed: the next stack's memory figures include it", stack)
			return
		}
		runtime.GC()
	}
}

// rss is this process's resident set size in bytes (0 where /proc is missing).
func rss() int64 { return rssOf(os.Getpid()) }

// sample records RSS and heap now; the heap without the GC floor's ballast, which is
// counted as allocated but never touched.
func (r *SlowReaders) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.PeakRSS, r.PeakHeap = max(r.PeakRSS, rss()), max(r.PeakHeap, int64(ms.HeapAlloc)-int64(gcfloor.Size()))
}
