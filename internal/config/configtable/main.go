// Command configtable prints the configuration table of ocrinvoice as Markdown, from the
// same declarations that parse the settings. With -readme FILE it replaces the table
// between the CONFIG TABLE markers of FILE instead. `make config-table` runs it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/ocrinvoice/ocrinvoice/internal/config"
)

const (
	begin = "<!-- BEGIN CONFIG TABLE (make config-table) -->\n"
	end   = "<!-- END CONFIG TABLE -->"
)

func main() {
	readme := flag.String("readme", "", "rewrite the table inside this Markdown file")
	flag.Parse()
	var b bytes.Buffer
	config.Markdown(&b)
	if *readme == "" {
		os.Stdout.Write(b.Bytes())
		return
	}
	if err := rewrite(*readme, b.Bytes()); err != nil {
		fmt.Fprintln(os.Stderr, "configtable:", err)
		os.Exit(1)
	}
}

func rewrite(path string, table []byte) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	i := bytes.Index(src, []byte(begin))
	j := bytes.Index(src, []byte(end))
	if i < 0 || j < i {
		return fmt.Errorf("%s lacks the markers %q and %q", path, begin, end)
	}
	out := append(append(append([]byte{}, src[:i+len(begin)]...), table...), src[j:]...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
