package main

import (
	"bytes"
	"context"
	"testing"
)

func TestVersion(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "1.2.3-test"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if got, want := stdout.String(), "ocrinvoice 1.2.3-test\n"; got != want {
			t.Errorf("%v printed %q, want %q", args, got, want)
		}
	}
	if err := run(context.Background(), []string{"version", "extra"}, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("version with an argument: no error")
	}
}
