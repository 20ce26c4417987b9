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
// pieces and prints how many collections ran and how much the floor made resident.
func measure(mb int) {
	before := residentKiB()
	Raise(mb)
	floorKiB := residentKiB() - before
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	for i := 0; i < 256<<8; i++ {
		sink = make([]byte, 4<<10)
	}
	runtime.ReadMemStats(&b)
	fmt.Println(b.NumGC-a.NumGC, floorKiB, Size())
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

// run measures a floor of mb MiB in a new process: collections, KiB made resident by
// the floor, the floor's size.
func run(t *testing.T, mb int) (cycles, floorKiB, size int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+strconv.Itoa(mb))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("measure a %d MiB floor: %v", mb, err)
	}
	if _, err := fmt.Sscan(string(out), &cycles, &floorKiB, &size); err != nil {
		t.Fatalf("measure a %d MiB floor: %q: %v", mb, out, err)
	}
	return cycles, floorKiB, size
}

func TestAFloorCutsCollectionsWithoutBecomingResident(t *testing.T) {
	without, _, size := run(t, 0)
	if size != 0 {
		t.Fatalf("Raise(0) made a %d-byte floor", size)
	}
	with, floorKiB, size := run(t, 64)
	t.Logf("collections over 256 MiB of garbage: %d without a floor, %d with 64 MiB (%d KiB of it resident)", without, with, floorKiB)
	if size != 64<<20 {
		t.Fatalf("Size %d, want %d", size, 64<<20)
	}
	if without < 16 || with*4 > without {
		t.Fatalf("want the floor to cut collections at least fourfold: %d without, %d with", without, with)
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
