// Command sous-sandbox runs the function sandbox's init and exec stage for the
// executors beside it (sdk/harness/sandbox): a small binary starts faster than an
// executor's own. Executors start it; by hand it only prints its build (--build).
package main

import (
	"fmt"
	"os"

	"github.com/sous-run/sous/sdk/harness/sandbox" // its init() is the jail's init and exec stage
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--build" {
		fmt.Println(sandbox.Build)
		return
	}
	fmt.Fprintln(os.Stderr, "sous-sandbox runs the function sandbox's init for the executors beside it and is not run by hand (--build prints the sandbox build it carries)")
	os.Exit(2)
}
