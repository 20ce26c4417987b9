package harness

import (
	"bytes"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/sous-run/sous/internal/rawio"
)

// maxLogLine is where a raw output line without a newline is cut into a log event.
const maxLogLine = 64 << 10

// outputPipe drains one of the process's output pipes (fd 1 or fd 2) for the whole
// life of the process, turning lines into calls of the current sink. It never stops
// reading, so a function is never blocked by its own output.
type outputPipe struct {
	f      *os.File
	fd     int    // f's descriptor, for polling (-1: unknown)
	stream string // stdout | stderr
	sink   func(stream, text string)

	mu       sync.Mutex
	cond     *sync.Cond
	consumed int64 // bytes read and processed
	partial  []byte
	eof      bool
}

func newOutputPipe(f *os.File, stream string) *outputPipe {
	p := &outputPipe{f: f, fd: -1, stream: stream}
	p.cond = sync.NewCond(&p.mu)
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { p.fd = int(fd) })
	}
	return p
}

// setSink directs lines to fn (nil: drop them, between invocations).
func (p *outputPipe) setSink(fn func(stream, text string)) {
	p.mu.Lock()
	p.sink = fn
	p.mu.Unlock()
}

func (p *outputPipe) loop() {
	defer p.f.Close()
	rc, err := p.f.SyscallConn()
	if err != nil {
		p.finish()
		return
	}
	buf := make([]byte, 32<<10)
	// The read happens with mu held, so flush sees consumed + FIONREAD as the exact
	// number of bytes written so far: no bytes are ever in flight outside the lock.
	done := false
	for !done {
		rerr := rc.Read(func(fd uintptr) bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			n, errno := rawio.TryRead(fd, buf)
			if errno == unix.EAGAIN {
				return false
			}
			if errno == 0 && n > 0 {
				p.process(buf[:n])
				p.consumed += int64(n)
				p.cond.Broadcast()
				return true
			}
			done = true
			return true
		})
		if rerr != nil {
			done = true
		}
	}
	p.finish()
}

func (p *outputPipe) finish() {
	p.mu.Lock()
	p.eof = true
	p.emitPartial()
	p.cond.Broadcast()
	p.mu.Unlock()
}

// process splits b into lines; called with mu held.
func (p *outputPipe) process(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			p.partial = append(p.partial, b...)
			if len(p.partial) >= maxLogLine {
				p.emitPartial()
			}
			return
		}
		line := b[:i]
		if len(p.partial) > 0 {
			line = append(p.partial, line...)
			p.partial = p.partial[:0]
		}
		p.emit(string(line))
		b = b[i+1:]
	}
}

func (p *outputPipe) emitPartial() {
	if len(p.partial) > 0 {
		p.emit(string(p.partial))
		p.partial = p.partial[:0]
	}
}

func (p *outputPipe) emit(text string) {
	if p.sink != nil {
		p.sink(p.stream, text)
	}
}

// flushEmpty is flush for a pipe a poll found empty after the envelope that made us
// call it: what the process wrote before is read already, and the reads happen with
// mu held, so only the last line without a newline is left to deliver.
func (p *outputPipe) flushEmpty() {
	p.mu.Lock()
	p.emitPartial()
	p.mu.Unlock()
}

// flush delivers everything written to the pipe before the call, including a last
// line without a newline. The process wrote its output before the envelope that
// made us call flush, so the bytes FIONREAD reports are all that is outstanding.
func (p *outputPipe) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	pending := 0
	if !p.eof {
		if rc, err := p.f.SyscallConn(); err == nil {
			_ = rc.Control(func(fd uintptr) {
				pending, _ = rawio.InQueue(int(fd))
			})
		}
	}
	target := p.consumed + int64(pending)
	for p.consumed < target && !p.eof {
		p.cond.Wait()
	}
	p.emitPartial()
}
