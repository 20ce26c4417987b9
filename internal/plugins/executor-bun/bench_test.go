package main

import (
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk/plugintest"
)

func benchRuntime(b *testing.B) plugintest.BenchRuntime {
	return plugintest.BenchRuntime{
		Runtime: "bun", Entry: "main.ts", Ext: "ts",
		Trivial:     "export default (input: unknown) => input;",
		Interp:      []string{testenv.Bun(b)},
		EchoScript:  "import { writeSync } from \"node:fs\";\nfor await (const line of console) writeSync(1, line + \"\\n\");\n",
		PlainScript: "const x: number = 1;\n",
	}
}

func BenchmarkWarm(b *testing.B)       { plugintest.BenchWarm(b, target(b), benchRuntime(b)) }
func BenchmarkColdStart(b *testing.B)  { plugintest.BenchCold(b, target(b), benchRuntime(b)) }
func BenchmarkThroughput(b *testing.B) { plugintest.BenchThroughput(b, target(b), benchRuntime(b)) }

// BenchmarkSandbox: warm and cold with the sandbox on vs off, in the same run.
func BenchmarkSandbox(b *testing.B) {
	plugintest.BenchSandbox(b, targetWith(b, "required"), targetWith(b, "none"), benchRuntime(b))
}
