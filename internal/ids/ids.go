// Package ids makes the identifiers of stored objects: 24 lowercase hexadecimal
// characters, shaped like a MongoDB ObjectID so that clients of the original REST API
// keep working. An id is 12 bytes: 4 bytes of Unix seconds (big endian, so ids sort by
// creation time to the second), 5 random bytes fixed per process, and a 3-byte counter
// that starts at a random value. Ids are unique across processes with overwhelming
// probability; ids made in a later second sort after ids made in an earlier one.
package ids

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// Len is the length of an id in characters.
const Len = 24

var (
	processUnique [5]byte
	counter       atomic.Uint32
)

func init() {
	var seed [4]byte
	// crypto/rand.Read never fails on supported platforms (it panics instead).
	_, _ = rand.Read(processUnique[:])
	_, _ = rand.Read(seed[:])
	counter.Store(binary.BigEndian.Uint32(seed[:]))
}

// New returns a new id. It is safe for concurrent use.
func New() string { return newAt(time.Now()) }

func newAt(t time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(t.Unix()))
	copy(b[4:9], processUnique[:])
	c := counter.Add(1)
	b[9], b[10], b[11] = byte(c>>16), byte(c>>8), byte(c)
	return hex.EncodeToString(b[:])
}

// Valid reports whether s has the shape of an id: exactly 24 lowercase hexadecimal
// characters. It says nothing about whether an object with that id exists.
func Valid(s string) bool {
	if len(s) != Len {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Time returns the creation time encoded in a valid id, to the second. It returns the
// zero time when s is not a valid id.
func Time(s string) time.Time {
	if !Valid(s) {
		return time.Time{}
	}
	b, _ := hex.DecodeString(s[:8])
	return time.Unix(int64(binary.BigEndian.Uint32(b)), 0).UTC()
}
