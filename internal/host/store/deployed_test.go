package store

import (
	"testing"
	"time"
)

// A deleted function stays deployed for workers while its queued invocations drain.
func TestDeployedFunctionsDrainDeleted(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := &Bundle{Runtime: "python", Entry: "main.py", Files: map[string][]byte{"main.py": []byte("def handler(i, c):\n    return i\n")}}
	for _, ref := range [][2]string{{"acme", "hello"}, {"rival", "hello"}, {"acme", "gone"}} {
		if _, err := st.CreateVersion(ref[0], ref[1], b, "dev"); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteFunction("acme", "gone"); err != nil {
		t.Fatal(err)
	}
	names := func() []string {
		fns, err := st.DeployedFunctions()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fns {
			out = append(out, f.Tenant+"/"+f.Name)
		}
		return out
	}
	if got := names(); len(got) != 3 || got[0] != "acme/gone" || got[1] != "acme/hello" || got[2] != "rival/hello" {
		t.Fatalf("deployed right after a delete: %v", got)
	}
	fn, _ := st.GetFunction("acme", "gone")
	old := time.Now().Add(-DrainAfterDelete - time.Minute)
	fn.DeletedAt = &old
	batch := st.db.NewBatch()
	if err := setJSON(batch, fnKey("acme", "gone"), fn); err != nil {
		t.Fatal(err)
	}
	if err := st.commit(batch, "age the delete"); err != nil {
		t.Fatal(err)
	}
	if got := names(); len(got) != 2 || got[0] != "acme/hello" {
		t.Fatalf("deployed after the drain window: %v", got)
	}
}
