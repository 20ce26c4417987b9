package store

import "encoding/json"

// Meta is what a function says about itself in sous.yaml: a description and an
// optional JSON Schema of its input. Callers that choose a function for a task
// (agents over MCP, the console) read it; the host checks the schema at deploy.
type Meta struct {
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema,omitempty"`
}

// writeCanonical adds the metadata to a bundle's canonical encoding. Nothing is
// written when both are empty, so bundles deployed without them keep their digest;
// otherwise a marker field keeps the encoding unambiguous.
func (m Meta) writeCanonical(field func(string)) {
	if m.Description == "" && len(m.InputSchema) == 0 {
		return
	}
	field("meta/1")
	field(m.Description)
	field(string(m.InputSchema))
}
