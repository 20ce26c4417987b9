package events

import (
	"bytes"
	"fmt"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/rawjson"
)

// checkPublish refuses, as sdk.ErrInvalid, a Publish an events plugin would refuse: no
// tenant or invocation id, or an envelope that is not a JSON object. rawjson.Valid scans
// without allocating, so this costs one pass over the bytes.
func checkPublish(tenant, id string, envs [][]byte) error {
	if tenant == "" || id == "" {
		return fmt.Errorf("publish: %w: tenant and invocation id are required", sdk.ErrInvalid)
	}
	for i, b := range envs {
		if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' || !rawjson.Valid(t) {
			return fmt.Errorf("publish %s: %w: envelope %d is not a JSON object", id, sdk.ErrInvalid, i)
		}
	}
	return nil
}
