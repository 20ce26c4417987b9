package gcfloor

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

var sink []byte

// helperEnv makes the test binary run measure with a floor of its value in MiB.
const helperEnv = "GCFLOOR_TEST_MB"

// TestMain runs measure instead of the tests when helperEnv is set: each floor is
// measured in a process of its own, its heap fresh as a host's is at start.
func TestMain(m *testing.M) {
	if mb := os.Getenv(helperEnv); mb != "" {
		n, _ := strconv.Atoi(mb)
		measure(n)
		return
	}
	os.Exit(m.Run())
}

// measure raises the floor, then allocates 256 MiB of short-lived garbage in 4 KiB
// pieces and prints how many collections ran, the heap goal after a collection (what
// the next one waits for: the count itself also depends on how much CPU the
// collector's workers got), how much the floor made resident and its size.
func measure(mb int) {
	before := residentKiB()
	Raise(mb)
	floorKiB := residentKiB() - before
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	for i := 0; i < 256<<8; i++ {
		sink = make([]byte, 4<<10)
	}
	runtime.GC()
	runtime.ReadMemStats(&b)
	fmt.Println(b.NumGC-a.NumGC, b.NextGC>>20, floorKiB, Size())
}

// residentKiB is the process's resident set (/proc/self/statm), -1 without /proc.
func residentKiB() int {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	pages, _ := strconv.Atoi(strings.Fields(string(b))[1])
	return pages * os.Getpagesize() >> 10
}

// run measures a floor of mb MiB in a new process: collections, the heap goal in MiB,
// KiB made resident by the floor, the floor's size.
func run(t *testing.T, mb int) (cycles, goalMiB, floorKiB, size int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+strconv.Itoa(mb))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("measure a %d MiB floor: %v", mb, err)
	}
	if _, err := fmt.Sscan(string(out), &cycles, &goalMiB, &floorKiB, &size); err != nil {
		t.Fatalf("measure a %d MiB floor: %q: %v", mb, out, err)
	}
	return cycles, goalMiB, floorKiB, size
}

func TestAFloorCutsCollectionsWithoutBecomingResident(t *testing.T) {
	without, goalWithout, _, size := run(t, 0)
	if size != 0 {
		t.Fatalf("Raise(0) made a %d-byte floor", size)
	}
	with, goalWith, floorKiB, size := run(t, 64)
	t.Logf("over 256 MiB of garbage: %d collections without a floor (heap goal %d MiB), %d with 64 MiB (goal %d MiB, %d KiB of the floor resident)",
		without, goalWithout, with, goalWith, floorKiB)
	if size != 64<<20 {
		t.Fatalf("Size %d, want %d", size, 64<<20)
	}
	// The goal is what a collection waits for; the count of collections also depends
	// on the CPU the collector's workers get (a busy machine lets more garbage pile up
	// during each), so it is only logged.
	if goalWithout >= 16 || goalWith < 64+goalWithout {
		t.Fatalf("want the floor to raise the heap goal by its size: %d MiB without, %d with", goalWithout, goalWith)
	}
	if floorKiB > 8<<10 {
		t.Fatalf("the 64 MiB floor made %d KiB resident; want it untouched (< 8 MiB)", floorKiB)
	}
}

func TestTheFirstFloorStays(t *testing.T) {
	Raise(1)
	Raise(2)
	if Size() != 1<<20 {
		t.Fatalf("Size %d after Raise(1), Raise(2); want the first, %d", Size(), 1<<20)
	}
}
