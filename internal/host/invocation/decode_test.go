package invocation

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/sous-run/sous/sdk/rawjson"
)

var taskSeeds = []string{
	`{"invocation_id":"01a2","tenant":"default","function":"f","version":3,"digest":"sha256:ab","runtime":"python","env":"prod","timeout_ms":30000,"enqueued_at_ms":1796379823769,"input":{"ping":1}}`,
	`{"invocation_id":"x","tenant":"t","digest":"d","input":null}`,
	`{"invocation_id":"x","Tenant":"t","digest":"d"}`,
	`{"invocation_id":"x","tenant":"t\u00e9","digest":"d","traceparent":"00-ab-cd-01"}`,
	`{"invocation_id":"x","tenant":"t","digest":"d","version":1.5}`,
	`{"invocation_id":"x","tenant":"t","digest":"d","timeout_ms":-1,"extra":[1,{"a":"}"}],"input" : [ 1 , 2 ] }`,
	`{"invocation_id":"x","tenant":"t","digest":"d","input":"a","input":"b"}`,
	`{"invocation_id":"x","tenant":null,"digest":"d","version":null}`,
	`{"invoc\u0061tion_id":"x"}`,
	`[1,2]`,
	`{"invocation_id":"\xff"}`,
}

// DecodeTask reads every payload as encoding/json does, or fails where it fails.
func FuzzDecodeTaskAsEncodingJSON(f *testing.F) {
	for _, s := range taskSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want Task
		werr := json.Unmarshal(b, &want)
		got, gerr := DecodeTask(b)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: encoding/json says %v, DecodeTask %v", b, werr, gerr)
		}
		if gerr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: decoded %+v, encoding/json %+v", b, got, want)
		}
	})
}

// The fast scan takes the usual task, not only the fallback.
func TestDecodeTaskScansTheUsualPayload(t *testing.T) {
	var tk Task
	b := []byte(taskSeeds[0])
	if !json.Valid(b) || !rawjson.Members(b, tk.set) {
		t.Fatal("the scan declined a plain task")
	}
	if tk.Version != 3 || tk.TimeoutMS != 30000 || string(tk.Input) != `{"ping":1}` || tk.Runtime != "python" {
		t.Fatalf("scanned %+v", tk)
	}
}

func BenchmarkDecodeTask(b *testing.B) {
	payload := []byte(taskSeeds[0])
	b.Run("scan", func(b *testing.B) {
		for range b.N {
			if _, err := DecodeTask(payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for range b.N {
			var t Task
			if _, err := rawjson.UnmarshalCut(payload, "input", &t); err != nil {
				b.Fatal(err)
			}
		}
	})
}
