package harness

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeProc is a Proc around a sleeping child in its own process group, so the pool
// can kill and reap it like a harness process.
func fakeProc(t *testing.T, key string) *Proc {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{key: key, cmd: cmd, pid: cmd.Process.Pid, req: w, ev: r, exited: make(chan struct{}), nextTmp: make(chan string, 1)}
	go func() {
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	return p
}

// result of an Acquire run in a goroutine.
type acquired struct {
	pr  *Proc
	err error
}

func acquireAsync(p *Pool, key string, start func() (*Proc, error)) <-chan acquired {
	ch := make(chan acquired, 1)
	go func() {
		pr, err := p.Acquire(context.Background(), key, start)
		ch <- acquired{pr, err}
	}()
	return ch
}

func await(t *testing.T, ch <-chan acquired, what string) acquired {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: Acquire did not return", what)
		return acquired{}
	}
}

// A run that finds no idle process gets one released by another run even while the
// start it asked for is still under way; the started process then waits idle.
func TestAcquireTakesAReleasedProcessBeforeItsStartEnds(t *testing.T) {
	p := NewPool(4, time.Hour)
	defer p.Close()
	p.cpus = 4 // grow whatever the runs' length
	first := fakeProc(t, "k")
	a := await(t, acquireAsync(p, "k", func() (*Proc, error) { return first, nil }), "first")
	if a.err != nil || a.pr != first {
		t.Fatalf("first acquire: %v %v", a.pr, a.err)
	}
	gate, called := make(chan struct{}), make(chan struct{})
	slow := fakeProc(t, "k")
	ch := acquireAsync(p, "k", func() (*Proc, error) {
		close(called)
		<-gate
		return slow, nil
	})
	<-called
	p.Release(first, true)
	if b := await(t, ch, "second"); b.err != nil || b.pr != first {
		t.Fatalf("second acquire got %p (%v), want the released process %p", b.pr, b.err, first)
	}
	close(gate)
	c := await(t, acquireAsync(p, "k", func() (*Proc, error) { t.Error("a third start"); return nil, errors.New("no") }), "third")
	if c.pr != slow {
		t.Fatalf("third acquire got %p (%v), want the process started for the second %p", c.pr, c.err, slow)
	}
	if total, idle := p.Stats(); total != 2 || idle != 0 {
		t.Fatalf("stats: %d total, %d idle; want 2, 0", total, idle)
	}
}

// While a start of a key is under way, another run of that key waits for a process
// rather than starting one more.
func TestAcquireStartsOneProcessAtATimePerKey(t *testing.T) {
	p := NewPool(8, time.Hour)
	defer p.Close()
	var starts atomic.Int32
	gate, called := make(chan struct{}), make(chan struct{})
	first := fakeProc(t, "k")
	start := func() (*Proc, error) {
		if starts.Add(1) == 1 {
			close(called)
			<-gate
			return first, nil
		}
		return fakeProc(t, "k"), nil
	}
	ch := acquireAsync(p, "k", start)
	<-called
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Acquire(ctx, "k", start); !errors.Is(err, context.Canceled) {
		t.Fatalf("second acquire: %v, want it to wait (and give up with its context)", err)
	}
	if n := starts.Load(); n != 1 {
		t.Fatalf("%d starts in flight for one key, want 1", n)
	}
	close(gate)
	if a := await(t, ch, "first"); a.pr != first {
		t.Fatalf("first acquire: %v %v", a.pr, a.err)
	}
}

// A failed start is the error of the run that asked for it, and frees its slot.
func TestAcquireReturnsAFailedStart(t *testing.T) {
	p := NewPool(1, time.Hour)
	defer p.Close()
	boom := errors.New("boom")
	if _, err := p.Acquire(context.Background(), "k", func() (*Proc, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("acquire: %v, want %v", err, boom)
	}
	if total, _ := p.Stats(); total != 0 {
		t.Fatalf("%d processes counted after a failed start", total)
	}
}

// A process whose start ends after Close is killed, not kept.
func TestStartEndingAfterCloseIsRetired(t *testing.T) {
	p := NewPool(2, time.Hour)
	gate, called := make(chan struct{}), make(chan struct{})
	late := fakeProc(t, "k")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = p.Acquire(ctx, "k", func() (*Proc, error) { close(called); <-gate; return late, nil })
	}()
	<-called
	cancel()
	p.Close()
	close(gate)
	select {
	case <-late.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("a process started after Close is still running")
	}
	if total, idle := p.Stats(); total != 0 || idle != 0 {
		t.Fatalf("stats after close: %d total, %d idle", total, idle)
	}
}

// A run of a key whose processes are all busy waits for one of them for as long as a
// start takes before it starts another; the first process of a key starts at once.
func TestAcquireWaitsAStartsLengthBeforeGrowingABusyKey(t *testing.T) {
	p := NewPool(8, time.Hour)
	defer p.Close()
	p.startCost = time.Hour
	var starts atomic.Int32
	start := func() (*Proc, error) { starts.Add(1); return fakeProc(t, "k"), nil }
	if a := await(t, acquireAsync(p, "k", start), "first"); a.err != nil {
		t.Fatal(a.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Acquire(ctx, "k", start); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second acquire: %v, want it to wait for the busy process", err)
	}
	if n := starts.Load(); n != 1 {
		t.Fatalf("%d starts, want 1: a busy key grew before a start's length of waiting", n)
	}
	if a := await(t, acquireAsync(p, "other", start), "other key"); a.err != nil || starts.Load() != 2 {
		t.Fatalf("first run of another key: %v, %d starts", a.err, starts.Load())
	}
}

// Past one process per CPU, a busy key grows only when its runs hold a process at least
// as long as a start takes.
func TestMayGrowPastTheCPUsOnlyForLongRuns(t *testing.T) {
	p := NewPool(8, time.Hour)
	defer p.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cpus, p.startCost = 2, 40*time.Millisecond
	for _, tc := range []struct {
		procs int
		hold  time.Duration
		want  bool
	}{
		{0, 0, true},                      // the first process
		{1, time.Millisecond, true},       // below one per CPU
		{2, time.Millisecond, false},      // short runs keep the CPUs busy
		{2, 40 * time.Millisecond, true},  // runs as long as a start
		{7, 500 * time.Millisecond, true}, // long runs
	} {
		p.perKey["k"], p.hold["k"] = tc.procs, tc.hold
		if got := p.mayGrow("k"); got != tc.want {
			t.Errorf("%d processes, runs of %v: mayGrow %v, want %v", tc.procs, tc.hold, got, tc.want)
		}
	}
}

// TestAcquireWaitsForAProcessOnItsWayBack: while a process's post-run check runs
// (ReleaseAfter), a run of its key waits for it instead of starting a process.
func TestAcquireWaitsForAProcessOnItsWayBack(t *testing.T) {
	p := NewPool(4, time.Hour)
	pr := &Proc{key: "k", exited: make(chan struct{})}
	checked := make(chan bool)
	p.ReleaseAfter(pr, func() bool { return <-checked })
	noStart := func() (*Proc, error) { return nil, errors.New("started a process while one was on its way back") }

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Acquire(ctx, "k", noStart); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire during the check: got %v, want it to wait (and end with its context)", err)
	}
	checked <- true
	got, err := p.Acquire(context.Background(), "k", noStart)
	if err != nil || got != pr {
		t.Fatalf("acquire after the check: got %v, %v; want the process back", got, err)
	}
}
