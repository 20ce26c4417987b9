package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/store"
)

// Limits of a function's metadata: enough for a paragraph and a real input schema,
// small enough that listing functions for an agent stays cheap.
const (
	MaxDescriptionBytes = 4 << 10
	MaxInputSchemaBytes = 64 << 10
)

// metaFrom checks the deploy's description and input_schema and puts them in b.
// The schema must be a JSON object that resolves as a JSON Schema (draft 2020-12 or
// draft-07), so callers can rely on validating input against it.
func metaFrom(req *wire.DeployRequest, b *store.Bundle) *apiError {
	if len(req.Description) > MaxDescriptionBytes {
		return bad("invalid_description", "description is %d bytes, over the limit of %d", len(req.Description), MaxDescriptionBytes)
	}
	if !utf8.ValidString(req.Description) {
		return bad("invalid_description", "description is not valid UTF-8")
	}
	b.Description = req.Description
	raw := bytes.TrimSpace(req.InputSchema)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	if len(raw) > MaxInputSchemaBytes {
		return &apiError{http.StatusRequestEntityTooLarge, "invalid_input_schema",
			fmt.Sprintf("input_schema is %d bytes, over the limit of %d", len(raw), MaxInputSchemaBytes)}
	}
	if _, err := ResolveSchema(raw); err != nil {
		return &apiError{http.StatusUnprocessableEntity, "invalid_input_schema", "input_schema: " + err.Error()}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return bad("invalid_input_schema", "input_schema is not valid JSON: %v", err)
	}
	b.InputSchema = buf.Bytes()
	return nil
}

// ResolveSchema parses raw as a JSON Schema object and resolves it (refs, keywords),
// saying what is wrong when it cannot be used to validate input.
func ResolveSchema(raw json.RawMessage) (*jsonschema.Resolved, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("must be a JSON Schema object such as {\"type\":\"object\",\"properties\":{…}}")
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("not a JSON Schema: %w", err)
	}
	rs, err := s.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("not a usable JSON Schema: %w", err)
	}
	return rs, nil
}
