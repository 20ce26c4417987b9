package store

import "testing"

// closed reports whether ch is closed.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestFunctionsChangedFiresWhenAFunctionIsAdded(t *testing.T) {
	s := openT(t)
	ch := s.FunctionsChanged()
	if closed(ch) {
		t.Fatal("closed before any deploy")
	}
	if _, _, err := s.DeployVersion("t1", "fn", bundle("a.ts", map[string]string{"a.ts": "x"}), "dev"); err != nil {
		t.Fatal(err)
	}
	if !closed(ch) {
		t.Fatal("a new function did not fire the signal")
	}
	ch = s.FunctionsChanged()
	if _, _, err := s.DeployVersion("t1", "fn", bundle("a.ts", map[string]string{"a.ts": "y"}), "dev"); err != nil {
		t.Fatal(err)
	}
	if closed(ch) {
		t.Fatal("a new version of a listed function fired the signal")
	}
	if err := s.DeleteFunction("t1", "fn"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.DeployVersion("t1", "fn", bundle("a.ts", map[string]string{"a.ts": "y"}), "dev"); err != nil {
		t.Fatal(err)
	}
	if !closed(ch) {
		t.Fatal("a function revived after a delete did not fire the signal")
	}
}
