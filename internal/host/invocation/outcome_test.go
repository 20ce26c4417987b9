package invocation

import (
	"encoding/json"
	"testing"

	"github.com/sous-run/sous/sdk/envelope"
)

func TestFromTerminalStatus(t *testing.T) {
	for _, c := range []struct {
		e    *envelope.Envelope
		want Status
	}{
		{&envelope.Envelope{Type: envelope.TypeResult}, StatusSucceeded},
		{&envelope.Envelope{Type: envelope.TypeError, Kind: envelope.KindTimeout}, StatusTimeout},
		{&envelope.Envelope{Type: envelope.TypeError, Kind: envelope.KindUser}, StatusFailed},
		{&envelope.Envelope{Type: envelope.TypeError, Kind: envelope.KindCrash}, StatusFailed},
		{&envelope.Envelope{Type: envelope.TypeError, Kind: envelope.KindInfra}, StatusFailed},
	} {
		o := FromTerminal("id", c.e)
		if o.Status != c.want || !o.Status.Final() {
			t.Errorf("%s/%s: status %q, want %q", c.e.Type, c.e.Kind, o.Status, c.want)
		}
		if back := o.Terminal(); back.Type != c.e.Type || back.Kind != c.e.Kind {
			t.Errorf("%s/%s: terminal round trip gave %s/%s", c.e.Type, c.e.Kind, back.Type, back.Kind)
		}
	}
	if o := Fail("id", envelope.KindTimeout, "slow"); o.Status != StatusTimeout || o.Error.Message != "slow" {
		t.Errorf("Fail timeout: %+v", o)
	}
}

func TestIsDone(t *testing.T) {
	if !IsDone(DoneRaw) {
		t.Fatal("the done sentinel is not done")
	}
	for _, raw := range []string{
		`{"type":"result","output":{"type":"done"}}`,
		`{"type":"log","text":"\"type\":\"done\""}`,
		`{"type":"chunk","data":"done"}`,
		`{"type":"result","output":"done"}`,
		``,
	} {
		if IsDone([]byte(raw)) {
			t.Errorf("%s is done", raw)
		}
	}
}

func TestSendTerminalThenDone(t *testing.T) {
	o := &Outcome{Status: StatusSucceeded, Output: json.RawMessage(`{"ok":true}`)}
	var got []string
	err := o.Send(func(id string, e *envelope.Envelope, raw []byte) error {
		if id != "" {
			t.Errorf("made-up event has id %q", id)
		}
		got = append(got, string(raw))
		return nil
	})
	if err != nil || len(got) != 2 || got[0] != `{"type":"result","output":{"ok":true}}` || !IsDone([]byte(got[1])) {
		t.Fatalf("sent %q, %v", got, err)
	}
}

func TestShowsLogsOnlyInDev(t *testing.T) {
	if !ShowsLogs(DevEnv) || ShowsLogs("prod") || ShowsLogs("") {
		t.Fatal("only the dev env shows logs")
	}
}
