package cluster

import (
	"testing"
	"time"
)

// startCluster starts size nodes in this process (see StartLocal), stopped at the end.
func startCluster(t testing.TB, size int, tune func(*Options)) *Local {
	l, err := StartLocal(t.TempDir(), size, tune)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// waitFor polls cond for up to 20 s (generous: the machine is shared).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if err := waitUntil(20*time.Second, cond); err != nil {
		t.Fatalf("timed out waiting: %s", what)
	}
}
