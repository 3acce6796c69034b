// Command configtable prints the configuration table of ocrinvoice as Markdown, from the
// same declarations that parse the settings. `make config-table` runs it.
package main

import (
	"os"

	"github.com/ocrinvoice/ocrinvoice/internal/config"
)

func main() { config.Markdown(os.Stdout) }
