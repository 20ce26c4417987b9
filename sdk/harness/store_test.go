package harness

import (
	"errors"
	"strings"
	"testing"

	executorpb "github.com/sous-run/sous/sdk/proto/executor"
)

func TestStorePrepareLoad(t *testing.T) {
	dir := t.TempDir()
	s, err := NewStore(dir, "python")
	if err != nil {
		t.Fatal(err)
	}
	spec := &executorpb.FunctionSpec{Digest: "0123456789abcdef", Runtime: "python", Entry: "lib/main.py",
		Files: map[string][]byte{"lib/main.py": []byte("x"), "lib/h.py": []byte("y")}, Vars: map[string]string{"K": "v"},
		Limits: &executorpb.Limits{TimeoutMs: 9}}
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
	ok := func() *executorpb.FunctionSpec {
		return &executorpb.FunctionSpec{Digest: "0123456789abcdef", Runtime: "bun", Entry: "main.ts", Files: map[string][]byte{"main.ts": nil}}
	}
	cases := map[string]func(*executorpb.FunctionSpec){
		"8-128 hex":            func(s *executorpb.FunctionSpec) { s.Digest = "../../etc" },
		`runtime "python"`:     func(s *executorpb.FunctionSpec) { s.Runtime = "python" },
		"not among the files":  func(s *executorpb.FunctionSpec) { s.Entry = "other.ts" },
		"relative":             func(s *executorpb.FunctionSpec) { s.Files["/abs.ts"] = nil },
		". or .. elements":     func(s *executorpb.FunctionSpec) { s.Files["a/../../x.ts"] = nil },
		"environment variable": func(s *executorpb.FunctionSpec) { s.Vars = map[string]string{"A=B": "x"} },
	}
	for want, mutate := range cases {
		spec := ok()
		mutate(spec)
		if _, err := s.Prepare(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want error containing %q, got %v", want, err)
		}
	}
}
