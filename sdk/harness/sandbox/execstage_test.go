package sandbox

import (
	"reflect"
	"testing"
)

// The rlimits reach the exec stage as they were given; a value it cannot read stops it.
func TestRlimitsTravelToTheExecStage(t *testing.T) {
	in := []Rlimit{{Resource: 6, Max: 64}, {Resource: 9, Max: 1 << 40}}
	out, err := decodeRlimits(encodeRlimits(in))
	if err != nil || !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip: %v %v, want %v", out, err, in)
	}
	if out, err := decodeRlimits(""); err != nil || out != nil {
		t.Fatalf("none: %v %v", out, err)
	}
	if _, err := decodeRlimits("6=x"); err == nil {
		t.Fatal("a bad rlimit was accepted")
	}
}
