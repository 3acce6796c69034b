// Command cmd writes the synthetic invoice set (see package synth):
//
//	go run ./worker/extract/synth/cmd -out worker/extract/evaluate/testdata/synthetic [-images=false]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/ocrinvoice/ocrinvoice/worker/extract/synth"
)

func main() {
	out := flag.String("out", "worker/extract/evaluate/testdata/synthetic", "folder to write files/ and truth.jsonl into")
	images := flag.Bool("images", true, "also write the noisy 200 DPI scans (needs pdftoppm)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := synth.Write(ctx, *out, *images); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}
