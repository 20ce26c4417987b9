package harness

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/sous-run/sous/sdk/envelope"
)

// sender takes the envelopes of a run (sdk.Executor.Run's emit).
type sender = func(envelope []byte) error

// invocation is the state of one run as seen from the supervisor: where envelopes go,
// how much log output has been sent, and whether the terminal envelope is out.
// Every method is safe for concurrent use (fd 3 and the two output pipes feed it).
type invocation struct {
	mu        sync.Mutex
	out       sender
	maxLog    int64
	logBytes  int64
	truncated bool
	closed    bool
	// nonce prefixes every line the runner writes to fd 3 for this run ("<hex> ").
	nonce []byte
}

func newInvocation(out sender, maxLog int64) *invocation {
	var b [8]byte
	_, _ = rand.Read(b[:])
	nonce := make([]byte, 17)
	hex.Encode(nonce, b[:])
	nonce[16] = ' '
	return &invocation{out: out, maxLog: maxLog, nonce: nonce}
}

// sendLocked sends one raw envelope unless the run is over; mu held.
func (iv *invocation) sendLocked(raw []byte) {
	if iv.closed {
		return
	}
	_ = iv.out(raw) // a gone client cancels the run's context
}

// admitLog counts n bytes of log text against the cap; mu held. It reports whether
// the log may be sent, sending the one truncation marker when the cap is first hit.
func (iv *invocation) admitLog(n int) bool {
	if iv.closed || iv.truncated {
		return false
	}
	if iv.logBytes+int64(n) > iv.maxLog {
		iv.truncated = true
		logTruncations.Inc()
		iv.sendLocked(logLine("stderr", fmt.Sprintf("[sous] log output truncated: over max_log_bytes (%d bytes); further logs of this invocation are dropped", iv.maxLog)))
		return false
	}
	iv.logBytes += int64(n)
	return true
}

// log sends a line the process wrote to fd 1 or fd 2.
func (iv *invocation) log(stream, text string) {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	if iv.admitLog(len(text)) {
		iv.sendLocked(logLine(stream, text))
	}
}

// logRaw forwards a log envelope the harness wrote to fd 3 (text length n).
func (iv *invocation) logRaw(raw []byte, n int) {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	if iv.admitLog(n) {
		iv.sendLocked(raw)
	}
}

// send forwards a non-terminal envelope (a chunk).
func (iv *invocation) send(raw []byte) {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	iv.sendLocked(raw)
}

// finish sends the terminal envelope; nothing is sent after it.
func (iv *invocation) finish(raw []byte) {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	iv.sendLocked(raw)
	iv.closed = true
}

// ended reports whether the terminal envelope is out.
func (iv *invocation) ended() bool {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	return iv.closed
}

// fail ends the run with an error envelope of the given kind.
func (iv *invocation) fail(kind, format string, args ...any) {
	b, _ := envelope.Marshal(envelope.Errorf(kind, format, args...))
	iv.finish(b)
}

func logLine(stream, text string) []byte {
	b, _ := json.Marshal(envelope.Envelope{Type: envelope.TypeLog, Stream: stream, Text: text, TS: time.Now().UnixMilli()})
	return b
}
