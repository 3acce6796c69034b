package pdfattach

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"sync"
)

// decodeStream returns the decoded data of s, at most max bytes.
func (d *doc) decodeStream(s stream, max int64) ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	b := d.b
	raw := b[s.start:s.end]
	flateEncoded, err := d.filter(s)
	if err != nil {
		return nil, err
	}
	if !flateEncoded {
		if int64(len(raw)) > max {
			return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(raw), max)
		}
		return bytes.Clone(raw), nil
	}
	return inflate(raw, max, d.sizeHint(s, len(raw), max))
}

// filter reports whether s is /FlateDecode-encoded, or why it cannot be decoded: only no
// filter or one /FlateDecode, without a predictor, are supported.
func (d *doc) filter(s stream) (bool, error) {
	b := d.b
	v, ok := dictLookup(b, s.dict, "Filter")
	if !ok || isNull(b, v) {
		return false, nil
	}
	var names []string
	if p := skipWS(b, v); p < len(b) && b[p] == '[' {
		for q := p + 1; ; {
			q = skipWS(b, q)
			if q >= len(b) || b[q] == ']' {
				break
			}
			n, ok := readName(b, q)
			if !ok {
				return false, fmt.Errorf("%w: /Filter array holds a non-name", ErrCorrupt)
			}
			names = append(names, n)
			q = tokenEnd(b, q+1)
		}
	} else if n, ok := readName(b, v); ok {
		names = []string{n}
	} else {
		return false, fmt.Errorf("%w: /Filter is neither a name nor an array", ErrCorrupt)
	}
	switch {
	case len(names) == 0:
		return false, nil
	case len(names) > 1 || names[0] != "FlateDecode":
		return false, fmt.Errorf("%w: filter %v (only /FlateDecode is decoded)", ErrUnsupported, names)
	}
	if p, ok := dictLookup(b, s.dict, "DecodeParms"); ok && !isNull(b, p) {
		if q := skipWS(b, p); q < len(b) && b[q] == '[' {
			p = q + 1
		}
		if pred, ok := dictLookup(b, p, "Predictor"); ok {
			if n, ok := readInt(b, pred); !ok || n > 1 {
				return false, fmt.Errorf("%w: /FlateDecode with a /Predictor (PNG or TIFF prediction is not decoded)", ErrUnsupported)
			}
		}
	}
	return true, nil
}

// sizeHint guesses the decoded size from the embedded file's /Params /Size, bounded so a
// false claim cannot make a large allocation.
func (d *doc) sizeHint(s stream, rawLen int, max int64) int {
	hint := int64(4 * rawLen)
	if pv, ok := dictLookup(d.b, s.dict, "Params"); ok {
		if sv, ok := dictLookup(d.b, pv, "Size"); ok {
			if n, ok := readInt(d.b, sv); ok && n > 0 {
				hint = n + 1
			}
		}
	}
	return int(min(hint, max+1, int64(64*rawLen)+4096))
}

// flateReaders reuses decompressors (each holds tens of KiB of tables and window).
var flateReaders sync.Pool

// inflate decodes zlib data, stopping after max bytes with ErrTooLarge. Like common PDF
// readers it does not insist on the Adler-32 trailer.
func inflate(raw []byte, max int64, hint int) ([]byte, error) {
	if len(raw) < 2 || raw[0]&0x0f != 8 || raw[0]>>4 > 7 || (uint16(raw[0])<<8|uint16(raw[1]))%31 != 0 {
		return nil, fmt.Errorf("%w: /FlateDecode data does not start with a zlib header", ErrCorrupt)
	}
	if raw[1]&0x20 != 0 {
		return nil, fmt.Errorf("%w: zlib data with a preset dictionary", ErrUnsupported)
	}
	src := bytes.NewReader(raw[2:])
	var fr io.ReadCloser
	if r, ok := flateReaders.Get().(io.ReadCloser); ok {
		if err := r.(flate.Resetter).Reset(src, nil); err == nil {
			fr = r
		}
	}
	if fr == nil {
		fr = flate.NewReader(src)
	}
	defer flateReaders.Put(fr)
	out, err := readAll(io.LimitReader(fr, max+1), hint)
	switch {
	case int64(len(out)) > max:
		return nil, fmt.Errorf("%w: decodes to more than %d bytes", ErrTooLarge, max)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("%w: compressed data ends early (truncated)", ErrCorrupt)
	case err != nil:
		return nil, fmt.Errorf("%w: inflate: %v", ErrCorrupt, err)
	}
	return out, nil
}

// readAll reads r to its end into a buffer that starts at hint bytes of capacity.
func readAll(r io.Reader, hint int) ([]byte, error) {
	buf := make([]byte, 0, max(hint, 512))
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
