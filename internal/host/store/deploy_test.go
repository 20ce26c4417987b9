package store

import "testing"

func TestDeployVersionReusesIdenticalLatest(t *testing.T) {
	s := openT(t)
	b := bundle("a.ts", map[string]string{"a.ts": "x"})
	v1, created, err := s.DeployVersion("t1", "fn", b, "dev")
	if err != nil || !created || v1.Number != 1 {
		t.Fatalf("first: %+v %v %v", v1, created, err)
	}
	// Identical: still version 1, and the named alias now points at it.
	v, created, err := s.DeployVersion("t1", "fn", bundle("a.ts", map[string]string{"a.ts": "x"}), "staging")
	if err != nil || created || v.Number != 1 {
		t.Fatalf("identical: %+v %v %v", v, created, err)
	}
	if fn, _ := s.GetFunction("t1", "fn"); fn.Latest != 1 || fn.Aliases["staging"] != 1 || fn.Aliases["dev"] != 1 {
		t.Fatalf("function after identical deploy: %+v", fn)
	}
	// Changed, then back to the first content: only the latest version counts.
	if v, created, _ = s.DeployVersion("t1", "fn", bundle("a.ts", map[string]string{"a.ts": "y"}), "dev"); !created || v.Number != 2 {
		t.Fatalf("changed: %+v %v", v, created)
	}
	if v, created, _ = s.DeployVersion("t1", "fn", b, "dev"); !created || v.Number != 3 {
		t.Fatalf("back to the first content: %+v %v", v, created)
	}
	// A deleted function is revived by a new version even with the same content.
	if err := s.DeleteFunction("t1", "fn"); err != nil {
		t.Fatal(err)
	}
	if v, created, _ = s.DeployVersion("t1", "fn", b, "dev"); !created || v.Number != 4 {
		t.Fatalf("after delete: %+v %v", v, created)
	}
	// CreateVersion always makes a version.
	if v, err = s.CreateVersion("t1", "fn", b, "dev"); err != nil || v.Number != 5 {
		t.Fatalf("CreateVersion: %+v %v", v, err)
	}
}
