package client

import (
	"runtime"
	"strings"
	"testing"
)

// TestReadSSEOfAShortRunAllocatesLittle: reading a short run's stream (status, result,
// done) allocates under 3 KiB (5 KiB with a line buffer per stream and a string per
// line), not a buffer sized for the longest line allowed; a line longer than the first
// buffer still reads whole.
func TestReadSSEOfAShortRunAllocatesLittle(t *testing.T) {
	stream := "id: 1-0\nevent: status\ndata: {\"type\":\"status\",\"status\":\"running\"}\n\n" +
		"id: 1-1\nevent: result\ndata: {\"type\":\"result\",\"output\":{\"n\":1}}\n\n" +
		"id: 1-2\nevent: done\ndata: {\"type\":\"done\"}\n\n"
	read := func(s string) (n int) {
		if err := ReadSSE(strings.NewReader(s), func(Event) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var before, after testingMem
	before.read()
	const runs = 50
	for range runs {
		if n := read(stream); n != 3 {
			t.Fatalf("%d events; want 3", n)
		}
	}
	after.read()
	if per := (after.bytes - before.bytes) / runs; per > 3<<10 {
		t.Fatalf("%d bytes allocated per stream; want at most 3 KiB (the line buffer is reused, lines are not copied)", per)
	}
	long := "id: 1-0\nevent: result\ndata: {\"type\":\"result\",\"output\":\"" + strings.Repeat("x", 100<<10) + "\"}\n\n" +
		"id: 1-1\nevent: done\ndata: {\"type\":\"done\"}\n\n"
	if n := read(long); n != 2 {
		t.Fatalf("%d events from a stream with a 100 KiB line; want 2", n)
	}
}

// testingMem is the process's total allocated bytes at a point.
type testingMem struct{ bytes uint64 }

func (m *testingMem) read() {
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	m.bytes = st.TotalAlloc
}
