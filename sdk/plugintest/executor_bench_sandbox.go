package plugintest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
)

// BenchSandbox measures in one run, interleaved so both see the same machine load:
// warm round trips of a trivial function through a plugin with the sandbox on and
// one with it off, and cold starts (Prepare + first Run of a new bundle) on both
// against a plain start of the runtime on an empty script. on and off are the same
// binary configured with sandbox required and none.
func BenchSandbox(b *testing.B, on, off Target, rt BenchRuntime) {
	cOn, cOff := Launch(b, on, sdk.KindExecutor).Executor, Launch(b, off, sdk.KindExecutor).Executor
	spec := NewFunc(rt.Runtime, rt.Entry, map[string]string{rt.Entry: rt.Trivial}, nil, sdk.Limits{})
	Prepare(b, cOn, spec)
	Prepare(b, cOff, spec)
	for range 50 {
		benchRun(b, cOn, spec.Digest)
		benchRun(b, cOff, spec.Digest)
	}
	plain := filepath.Join(b.TempDir(), "plain."+rt.Ext)
	if err := os.WriteFile(plain, []byte(rt.PlainScript), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var warmOn, warmOff, coldOn, coldOff, floor []time.Duration
	timed := func(into *[]time.Duration, fn func()) {
		t0 := time.Now()
		fn()
		*into = append(*into, time.Since(t0))
	}
	for range b.N {
		timed(&warmOn, func() { benchRun(b, cOn, spec.Digest) })
		timed(&warmOff, func() { benchRun(b, cOff, spec.Digest) })
	}
	for i := range max(5, min(b.N/10, 30)) {
		for _, c := range []struct {
			conn sdk.Executor
			into *[]time.Duration
		}{{cOn, &coldOn}, {cOff, &coldOff}} {
			s := NewFunc(rt.Runtime, rt.Entry, map[string]string{rt.Entry: rt.Trivial + comment(rt, i)}, nil, sdk.Limits{})
			timed(c.into, func() { Prepare(b, c.conn, s); benchRun(b, c.conn, s.Digest) })
		}
		timed(&floor, func() {
			if out, err := exec.Command(rt.Interp[0], append(rt.Interp[1:], plain)...).CombinedOutput(); err != nil {
				b.Fatalf("plain start: %v %s", err, out)
			}
		})
	}
	b.StopTimer()
	won, woff := percentile(warmOn, 50), percentile(warmOff, 50)
	con, coff, f := percentile(coldOn, 50), percentile(coldOff, 50), percentile(floor, 50)
	b.ReportMetric(us(won), "warm-on-p50-us")
	b.ReportMetric(us(woff), "warm-off-p50-us")
	b.ReportMetric(float64(won)/float64(woff), "warm-on/off")
	b.ReportMetric(ms(con), "cold-on-p50-ms")
	b.ReportMetric(ms(coff), "cold-off-p50-ms")
	b.ReportMetric(ms(f), "plain-start-p50-ms")
	b.ReportMetric(float64(con)/float64(f), "cold-on/plain")
	b.ReportMetric(float64(coff)/float64(f), "cold-off/plain")
}

// comment makes a unique source line for the runtime (a new bundle, a new digest).
func comment(rt BenchRuntime, i int) string {
	if rt.Ext == "py" {
		return fmt.Sprintf("\n# %d %d\n", i, time.Now().UnixNano())
	}
	return fmt.Sprintf("\n// %d %d\n", i, time.Now().UnixNano())
}
