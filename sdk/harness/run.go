package harness

import (
	"bytes"
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sous-run/sous/internal/rawio"
	"github.com/sous-run/sous/sdk/envelope"
)

// crashWait is how long a process that closed fd 3 is given to be reaped before the
// crash is reported anyway.
const crashWait = 2 * time.Second

// run sends one request to the process and relays its envelopes to iv until the
// terminal one, the deadline, a memory breach, the process's death or ctx's end.
// fd 3 is read on the calling goroutine with the deadline as read deadline, so the
// hot path has no hand-off between goroutines. It reports whether the process can
// serve another invocation.
func (p *Proc) run(ctx context.Context, deadline time.Time, req []byte, iv *invocation) bool {
	p.out.setSink(iv.log)
	p.errp.setSink(iv.log)
	defer p.out.setSink(nil)
	defer p.errp.setSink(nil)

	start := time.Now()
	// A caller that leaves mid-run gets the process killed. One that cancels its stream
	// because it has the terminal envelope (the host does, at once) must not: the run
	// is over and the warm process goes back to the pool.
	cancelled := context.AfterFunc(ctx, func() {
		if !iv.ended() {
			p.stop(&stopReason{})
		}
	})
	defer cancelled()
	if p.mem == MemoryRSS && p.limits.MemoryMB > 0 && p.cg == nil {
		stop := make(chan struct{})
		defer close(stop)
		watchRSS(p, p.limits.MemoryMB<<20, stop)
	}
	if p.jail != nil {
		if err := p.jail.AwaitClean(); err != nil {
			p.kill()
			iv.fail(envelope.KindInfra, "%v", err)
			return false
		}
	}
	if err := p.ev.SetReadDeadline(deadline); err != nil {
		p.kill()
		iv.fail(envelope.KindInfra, "harness fd 3: %v", err)
		return false
	}
	if _, err := p.reqW.Write(req); err != nil {
		p.kill()
		p.flushOutput()
		iv.fail(envelope.KindCrash, "harness process is gone: %s", p.exitDescription(crashWait))
		return false
	}
	max := int(p.limits.MaxResultBytes) + 4096 + len(iv.nonce)
	for {
		l, err := readCapped(p.evBuf, max)
		if err == nil {
			if done, reusable := p.handle(l, iv); done {
				return reusable
			}
			continue
		}
		if r := p.stopped.Load(); r != nil {
			if r.kind != "" {
				p.flushOutput()
				iv.fail(r.kind, "%s", r.message)
			}
			return false
		}
		p.kill()
		p.flushOutput()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			limitKills.WithLabelValues("timeout").Inc()
			iv.fail(envelope.KindTimeout, "function timed out after %d ms (timeout_ms %d; every process it started was killed)", time.Since(start).Milliseconds(), p.limits.TimeoutMS)
		} else if desc := p.exitDescription(crashWait); p.breached(iv) {
			return false
		} else {
			iv.fail(envelope.KindCrash, "%s", desc)
		}
		return false
	}
}

// handle relays one fd 3 line; done reports a terminal envelope.
func (p *Proc) handle(l cappedLine, iv *invocation) (done, reusable bool) {
	b, ok := bytes.CutPrefix(l.B, iv.nonce)
	if !ok {
		// Only the runner knows this run's nonce: a line without it was written by
		// the function (or is left over from an earlier run). The process is no longer
		// trustworthy; this run fails and the process is replaced.
		p.kill()
		p.flushOutput()
		iv.fail(envelope.KindCrash, "harness protocol violation: a line on the envelope channel (fd 3) without this invocation's nonce; the function wrote to fd 3 or the runner is out of step (process replaced)")
		return true, false
	}
	l.B = b
	if l.Over {
		if bytes.Contains(l.B, []byte(`"type":"log"`)) {
			iv.log("stderr", "[sous] a log line over max_result_bytes was dropped")
			return false, false
		}
		p.kill()
		p.flushOutput()
		limitKills.WithLabelValues("max_result_bytes").Inc()
		iv.fail(envelope.KindLimit, "output over max_result_bytes (%d bytes)", p.limits.MaxResultBytes)
		return true, false
	}
	e, err := envelope.Unmarshal(l.B)
	if err != nil {
		p.kill()
		p.flushOutput()
		iv.fail(envelope.KindCrash, "harness protocol error: %v", err)
		return true, false
	}
	switch e.Type {
	case envelope.TypeLog:
		iv.logRaw(l.B, len(e.Text))
		return false, false
	case envelope.TypeChunk:
		iv.send(l.B)
		return false, false
	case envelope.TypeResult:
		if p.settle(iv) {
			return true, false
		}
		iv.finish(l.B)
		return true, true
	case envelope.TypeError:
		if p.settle(iv) {
			return true, false
		}
		iv.finish(l.B)
		if e.Kind == envelope.KindUser {
			return true, true
		}
		p.kill() // a limit, timeout or crash the harness noticed itself: replace the process
		return true, false
	default:
		p.kill()
		p.flushOutput()
		iv.fail(envelope.KindCrash, "harness protocol error: unexpected %q envelope", e.Type)
		return true, false
	}
}

// breached ends the run with a limit error when the process's cgroup saw a limit
// hit during it (a process OOM-killed, a fork refused), and reports whether it did.
func (p *Proc) breached(iv *invocation) bool {
	if p.cg == nil {
		return false
	}
	return p.breach(iv, p.cg.Breach())
}

// breach ends the run with the limit error msg names, if any, and reports whether it did.
func (p *Proc) breach(iv *invocation, msg string) bool {
	if msg == "" {
		return false
	}
	p.kill()
	iv.fail(envelope.KindLimit, "%s", msg)
	return true
}

// settle is flushOutput then breached at a run's end, with one poll where those ask
// each pipe for its queue (FIONREAD) and read the OOM counter: a pipe with nothing
// queued only has its last partial line to deliver, and the counter is read only once
// the cgroup's OOM signal fired. It reports whether the run ended with a breach.
func (p *Proc) settle(iv *invocation) bool {
	fds := []unix.PollFd{{Fd: int32(p.out.fd), Events: unix.POLLIN}, {Fd: int32(p.errp.fd), Events: unix.POLLIN}}
	oom := -1
	if p.cg != nil {
		oom = p.cg.OOMSignal()
	}
	if oom >= 0 {
		fds = append(fds, unix.PollFd{Fd: int32(oom), Events: unix.POLLIN})
	}
	// A pipe whose fd is unknown (-1) is skipped by the poll and asked below.
	if _, err := rawio.Ready(fds); err != nil {
		for i := range fds {
			fds[i].Revents = unix.POLLIN // ask everything, as without the poll
		}
	}
	for i, o := range []*outputPipe{p.out, p.errp} {
		if fds[i].Fd >= 0 && fds[i].Revents == 0 {
			o.flushEmpty()
		} else {
			o.flush()
		}
	}
	if p.cg == nil {
		return false
	}
	return p.breach(iv, p.cg.BreachPolled(oom >= 0 && fds[2].Revents != 0))
}

// flushOutput delivers what the process wrote to fd 1/2 before now.
func (p *Proc) flushOutput() {
	p.out.flush()
	p.errp.flush()
}
