// Command sous is the Sous host: server roles and the CLI.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "sous: not built yet")
	os.Exit(2)
}
