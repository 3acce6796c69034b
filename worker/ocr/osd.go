package ocr

/*
#cgo LDFLAGS: -ltesseract -llept
#include <stdlib.h>
#include <tesseract/capi.h>
#include <leptonica/allheaders.h>

static void ocrinvoice_quiet_leptonica(void) {
	setMsgSeverity(L_SEVERITY_NONE);
}

static int ocrinvoice_osd_init(TessBaseAPI* h) {
	int rc = TessBaseAPIInit3(h, NULL, "osd");
	if (rc == 0) {
		TessBaseAPISetPageSegMode(h, PSM_OSD_ONLY);
		TessBaseAPISetVariable(h, "debug_file", "/dev/null");
	}
	return rc;
}

static int ocrinvoice_osd_detect(TessBaseAPI* h, const unsigned char* pix, int w, int hgt, int stride, int* deg, float* conf) {
	TessBaseAPISetImage(h, pix, w, hgt, 1, stride);
	BOOL ok = TessBaseAPIDetectOrientationScript(h, deg, conf, NULL, NULL);
	TessBaseAPIClear(h);
	return ok ? 1 : 0;
}
*/
import "C"

import (
	"errors"
	"image"
	"unsafe"
)

// quietLeptonica stops leptonica (Tesseract's image library) from printing its
// internal warnings ("Error in boxClipToRectangle: box outside rectangle") to stderr
// for every odd page; they say nothing the caller can act on. It is process-wide.
func quietLeptonica() { C.ocrinvoice_quiet_leptonica() }

// osdEngine is Tesseract's orientation and script detection (osd.traineddata) on its
// own API handle. gosseract does not expose orientation detection, so this small
// binding uses Tesseract's C API directly. Like a gosseract client, an osdEngine
// belongs to one pool slot and is never used by two goroutines at once.
type osdEngine struct {
	h *C.TessBaseAPI
}

// newOSDEngine loads osd.traineddata. It fails when the model is not installed.
func newOSDEngine() (*osdEngine, error) {
	h := C.TessBaseAPICreate()
	if h == nil {
		return nil, errors.New("create Tesseract OSD handle")
	}
	initMu.Lock()
	rc := C.ocrinvoice_osd_init(h)
	initMu.Unlock()
	if rc != 0 {
		C.TessBaseAPIDelete(h)
		return nil, errors.New("load Tesseract orientation model: osd.traineddata is not installed")
	}
	return &osdEngine{h: h}, nil
}

// detect returns the page's orientation as the clockwise rotation in degrees (0, 90,
// 180 or 270) that makes its text upright, and Tesseract's confidence in it. ok is
// false when there is too little text to decide.
func (o *osdEngine) detect(img *image.Gray) (rotate int, conf float64, ok bool) {
	b := img.Bounds()
	if b.Dx() < 16 || b.Dy() < 16 || len(img.Pix) == 0 {
		return 0, 0, false
	}
	var deg C.int
	var c C.float
	pix := img.Pix[img.PixOffset(b.Min.X, b.Min.Y):]
	r := C.ocrinvoice_osd_detect(o.h, (*C.uchar)(unsafe.Pointer(&pix[0])), C.int(b.Dx()), C.int(b.Dy()), C.int(img.Stride), &deg, &c)
	if r == 0 {
		return 0, 0, false
	}
	return int(deg), float64(c), true
}

func (o *osdEngine) close() {
	if o != nil && o.h != nil {
		C.TessBaseAPIEnd(o.h)
		C.TessBaseAPIDelete(o.h)
		o.h = nil
	}
}
