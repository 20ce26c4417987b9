package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/sous-run/sous/sdk/rawjson"
)

// readInput reads the body as the function's input: empty means null; it must be JSON
// of at most limits.max_input_bytes (413) nested at most limits.max_input_depth deep
// (400), so that every queue carries it and every runtime decodes it.
func (s *Server) readInput(w http.ResponseWriter, r *http.Request) (json.RawMessage, bool) {
	limit := min(s.opts.MaxInputBytes, s.opts.MaxBodyBytes)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			key := "limits.max_input_bytes"
			if limit < s.opts.MaxInputBytes {
				key = "http.max_body_bytes"
			}
			WriteError(w, r, http.StatusRequestEntityTooLarge, "body_too_large",
				fmt.Sprintf("the input is over %d bytes (%s); send less, or pass a reference to the data instead", limit, key))
			return nil, false
		}
		WriteError(w, r, http.StatusBadRequest, "bad_request", "read body: "+err.Error())
		return nil, false
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return json.RawMessage("null"), true
	}
	// Checked and compacted once here: every hop after passes the input on as it is,
	// one line (see rawjson). Most clients send it compact already.
	depth, compact, ok := rawjson.Check(body)
	if ok && !compact {
		var c bytes.Buffer
		c.Grow(len(body))
		ok = json.Compact(&c, body) == nil
		body = c.Bytes()
	}
	if !ok {
		WriteError(w, r, http.StatusBadRequest, "invalid_json", "the request body is the function's input and must be JSON (send `null` or nothing for no input)")
		return nil, false
	}
	if depth > s.opts.MaxInputDepth {
		WriteError(w, r, http.StatusBadRequest, "input_too_deep",
			fmt.Sprintf("the input nests arrays and objects %d deep, over limits.max_input_depth %d; flatten it", depth, s.opts.MaxInputDepth))
		return nil, false
	}
	return body, true
}
