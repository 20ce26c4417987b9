package redisconn

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{`"90s"`: 90 * time.Second, `"5m"`: 5 * time.Minute, `2`: 2 * time.Second, `0.5`: 500 * time.Millisecond} {
		var d Duration
		if err := d.UnmarshalJSON([]byte(in)); err != nil || d.D() != want {
			t.Errorf("%s -> %s, %v; want %s", in, d.D(), err, want)
		}
	}
	var d Duration
	if err := d.UnmarshalJSON([]byte(`"soon"`)); err == nil || !strings.Contains(err.Error(), "Go duration") {
		t.Errorf(`"soon" -> %v, want an error explaining the form`, err)
	}
}

func TestCheckSegment(t *testing.T) {
	for _, ok := range []string{"acme", "sous.run.bun", "a_b-c@d", strings.Repeat("x", MaxSegment)} {
		if err := CheckSegment("tenant", ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a:b", "a b", "{x}", "é", strings.Repeat("x", MaxSegment+1)} {
		if err := CheckSegment("tenant", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestErrorClasses(t *testing.T) {
	refused := fmt.Errorf("dial: %w", syscall.ECONNREFUSED)
	loading := errors.New("LOADING Redis is loading the dataset in memory")
	abort := errors.New("EXECABORT Transaction discarded because of previous errors.")
	reset := fmt.Errorf("read: %w", syscall.ECONNRESET)
	for _, e := range []error{refused, loading, reset} {
		if !IsConnErr(e) {
			t.Errorf("IsConnErr(%v) = false", e)
		}
	}
	for _, e := range []error{refused, loading, abort} {
		if !NotApplied(e) {
			t.Errorf("NotApplied(%v) = false", e)
		}
	}
	// A reset connection may have run the command: not safe for non-idempotent writes.
	if NotApplied(reset) {
		t.Errorf("NotApplied(reset) = true")
	}
	for _, e := range []error{redis.Nil, errors.New("ERR wrong number of arguments"), errors.New("STALE lease")} {
		if IsConnErr(e) {
			t.Errorf("IsConnErr(%v) = true", e)
		}
	}
}
