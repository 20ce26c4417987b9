package invocation

// FunctionCommandPrefix prefixes the messaging command of each function:
// sous.fn.<tenant>.<function>. Tenants ([a-z0-9][a-z0-9_-]{0,62}) and function names
// ([a-z][a-z0-9-]{1,62}) never hold '.', ':' or '/', so the command is unambiguous, stays
// lowercase (codeQ lowercases commands in its keys and splits them on '/') and is at
// most 135 characters. Two tenants' functions of one name never share a queue.
const FunctionCommandPrefix = "sous.fn."

// FunctionRef names one deployed function of one tenant.
type FunctionRef struct {
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
}

// FunctionCommand returns the messaging command (queue) of a tenant's function.
func FunctionCommand(tenant, function string) string {
	return FunctionCommandPrefix + tenant + "." + function
}
