package ocr

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// TestMain re-executes the test binary with OMP_THREAD_LIMIT=1 when it is missing:
// OpenMP reads the variable when Tesseract's library loads, before any Go code runs,
// so the whole process must start with it.
func TestMain(m *testing.M) {
	if os.Getenv("OMP_THREAD_LIMIT") == "" {
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				os.Exit(ee.ExitCode())
			}
			fmt.Fprintln(os.Stderr, "re-exec test binary with OMP_THREAD_LIMIT=1:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
