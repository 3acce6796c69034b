package main

import (
	"context"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
	"github.com/ocrinvoice/ocrinvoice/worker"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// newTaskHandler builds the OCR pipeline for one worker process: an OCR reader with one
// engine slot per concurrent task, the guarded fetcher and the asynq handler. The
// returned close releases the OCR engines; call it after the asynq server has stopped.
// Uploaded documents (upload://KEY) are read from the upload store under the data
// directory, which the API process must share.
func newTaskHandler(_ context.Context, d pipelineDeps) (asynq.Handler, func() error, error) {
	store, err := uploads.New(d.Config.UploadDir())
	if err != nil {
		return nil, nil, err
	}
	mem := d.Config.OCRMemoryLimit
	if mem == 0 {
		mem = -1 // no limit
	} else if !ocr.MemoryLimitSupported() {
		d.Logger.Warn("prlimit (util-linux) is not installed: poppler runs without OCRINVOICE_OCR_MEMORY_LIMIT")
	}
	reader, err := ocr.NewReader(ocr.Config{Slots: d.Config.WorkerConcurrency, ToolMemoryLimit: mem})
	if err != nil {
		return nil, nil, fmt.Errorf("start OCR engines: %w", err)
	}
	h := worker.NewHandler(worker.Config{
		Jobs:       d.Service,
		Reader:     reader,
		Fetcher:    fetch.New(fetch.Options{Allow: d.Config.FetchAllow, Uploads: store, MaxUploadBytes: d.Config.UploadMaxBytes}),
		Logger:     d.Logger,
		Heartbeats: d.Heartbeats,
	})
	return h, reader.Close, nil
}
