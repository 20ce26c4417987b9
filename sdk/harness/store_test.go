package harness

import (
	"errors"
	"strings"
	"testing"

	"time"

	"github.com/sous-run/sous/sdk"
)

func TestStorePrepareLoad(t *testing.T) {
	dir := t.TempDir()
	s, err := NewStore(dir, "python")
	if err != nil {
		t.Fatal(err)
	}
	spec := &sdk.FunctionSpec{Digest: "0123456789abcdef", Runtime: "python", Entry: "lib/main.py",
		Files: map[string][]byte{"lib/main.py": []byte("x"), "lib/h.py": []byte("y")}, Vars: map[string]string{"K": "v"},
		Limits: sdk.Limits{Timeout: 9 * time.Millisecond}}
	if cached, err := s.Prepare(spec); err != nil || cached {
		t.Fatalf("first prepare: cached=%v err=%v", cached, err)
	}
	if cached, err := s.Prepare(spec); err != nil || !cached {
		t.Fatalf("second prepare: cached=%v err=%v", cached, err)
	}
	// A new store on the same dir (a restarted plugin) finds the bundle on disk.
	s2, _ := NewStore(dir, "python")
	f, err := s2.Load(spec.Digest)
	if err != nil || f.Entry != "lib/main.py" || f.Vars["K"] != "v" || f.Limits.TimeoutMS != 9 {
		t.Fatalf("load: %+v %v", f, err)
	}
	if _, err := s2.Load("ffffffffffffffff"); !errors.Is(err, ErrNotPrepared) {
		t.Fatalf("unknown digest: %v", err)
	}
}

func TestStoreRejectsBadSpecs(t *testing.T) {
	s, _ := NewStore(t.TempDir(), "bun")
	ok := func() *sdk.FunctionSpec {
		return &sdk.FunctionSpec{Digest: "0123456789abcdef", Runtime: "bun", Entry: "main.ts", Files: map[string][]byte{"main.ts": nil}}
	}
	cases := map[string]func(*sdk.FunctionSpec){
		"8-128 hex":            func(s *sdk.FunctionSpec) { s.Digest = "../../etc" },
		`runtime "python"`:     func(s *sdk.FunctionSpec) { s.Runtime = "python" },
		"not among the files":  func(s *sdk.FunctionSpec) { s.Entry = "other.ts" },
		"relative":             func(s *sdk.FunctionSpec) { s.Files["/abs.ts"] = nil },
		". or .. elements":     func(s *sdk.FunctionSpec) { s.Files["a/../../x.ts"] = nil },
		"environment variable": func(s *sdk.FunctionSpec) { s.Vars = map[string]string{"A=B": "x"} },
	}
	for want, mutate := range cases {
		spec := ok()
		mutate(spec)
		if _, err := s.Prepare(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want error containing %q, got %v", want, err)
		}
	}
}
