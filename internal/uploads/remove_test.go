package uploads_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/redact"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

func pdfBytes(name string) []byte { return []byte("%PDF-1.4 " + name) }

func put(t *testing.T, s *uploads.Store, b []byte) string {
	t.Helper()
	u, err := s.Put(context.Background(), bytes.NewReader(b), 0)
	if err != nil {
		t.Fatal(err)
	}
	return u.Key
}

func stored(s *uploads.Store, key string) bool {
	_, _, ok := s.Stat(key)
	return ok
}

// TestStageThenCommit: staged bytes are not under their key until Commit; Discard
// leaves nothing; Commit of bytes stored already keeps the stored file.
func TestStageThenCommit(t *testing.T) {
	s := newStore(t)
	doc := pdfBytes("staged")
	st, err := s.Stage(context.Background(), bytes.NewReader(doc), 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Key != sum(doc) || st.URL != "upload://"+sum(doc) || st.Size != int64(len(doc)) || st.ContentType != "application/pdf" {
		t.Fatalf("staged %+v", st.Upload)
	}
	if stored(s, st.Key) {
		t.Fatal("a staged upload is under its key before Commit")
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	st.Discard() // after Commit: a no-op
	if names := files(t, s); !slices.Equal(names, []string{st.Key}) {
		t.Fatalf("after Commit the store holds %v", names)
	}
	if err := st.Commit(); err == nil {
		t.Error("a second Commit succeeded")
	}

	again, err := s.Stage(context.Background(), bytes.NewReader(doc), 0)
	if err != nil {
		t.Fatal(err)
	}
	_, before, _ := s.Stat(st.Key)
	if err := again.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, after, _ := s.Stat(st.Key); !after.Equal(before) {
		t.Error("Commit of stored bytes replaced the file")
	}

	other, err := s.Stage(context.Background(), bytes.NewReader(pdfBytes("discarded")), 0)
	if err != nil {
		t.Fatal(err)
	}
	other.Discard()
	if names := files(t, s); !slices.Equal(names, []string{st.Key}) {
		t.Fatalf("after Discard the store holds %v", names)
	}
}

// TestRemoveUnreferenced: only unreferenced files go; a reference recorded between the
// two looks keeps the file; a failing look moves everything back; a Commit of the same
// bytes while the file is moved aside puts it back.
func TestRemoveUnreferenced(t *testing.T) {
	t.Run("keeps what is referenced", func(t *testing.T) {
		s := newStore(t)
		kept, gone := put(t, s, pdfBytes("kept")), put(t, s, pdfBytes("gone"))
		missing := strings.Repeat("0", 64)
		var asked [][]string
		removed, err := s.RemoveUnreferenced([]string{kept, gone, missing, "../x"}, func(keys []string) (map[string]bool, error) {
			asked = append(asked, slices.Clone(keys))
			return map[string]bool{kept: true}, nil
		})
		if err != nil || !slices.Equal(removed, []string{gone}) {
			t.Fatalf("removed %v, %v; want just %s", removed, err, gone)
		}
		if !stored(s, kept) || stored(s, gone) {
			t.Fatalf("kept stored %v, gone stored %v", stored(s, kept), stored(s, gone))
		}
		// Missing and invalid keys are not asked about; the second look is at the
		// candidates only.
		if len(asked) != 2 || !slices.Equal(asked[0], []string{kept, gone}) || !slices.Equal(asked[1], []string{gone}) {
			t.Fatalf("asked %v", asked)
		}
		if names := files(t, s); !slices.Equal(names, []string{kept}) {
			t.Fatalf("store holds %v", names)
		}
	})
	t.Run("a reference recorded meanwhile keeps the file", func(t *testing.T) {
		s := newStore(t)
		k := put(t, s, pdfBytes("raced"))
		looks := 0
		removed, err := s.RemoveUnreferenced([]string{k}, func(keys []string) (map[string]bool, error) {
			looks++
			if looks == 2 && stored(s, k) {
				t.Error("the file is under its key during the second look")
			}
			return map[string]bool{k: looks == 2}, nil
		})
		if err != nil || len(removed) != 0 || looks != 2 {
			t.Fatalf("removed %v, %v after %d looks", removed, err, looks)
		}
		if names := files(t, s); !slices.Equal(names, []string{k}) {
			t.Fatalf("store holds %v", names)
		}
	})
	t.Run("a failing look moves everything back", func(t *testing.T) {
		s := newStore(t)
		a, b := put(t, s, pdfBytes("a")), put(t, s, pdfBytes("b"))
		looks := 0
		boom := errors.New("database down")
		removed, err := s.RemoveUnreferenced([]string{a, b}, func(keys []string) (map[string]bool, error) {
			looks++
			if looks == 2 {
				return nil, boom
			}
			return nil, nil
		})
		if !errors.Is(err, boom) || len(removed) != 0 {
			t.Fatalf("removed %v, %v", removed, err)
		}
		if names := files(t, s); len(names) != 2 || !stored(s, a) || !stored(s, b) {
			t.Fatalf("store holds %v", names)
		}
	})
	t.Run("an upload of the same bytes while it is moved aside", func(t *testing.T) {
		s := newStore(t)
		doc := pdfBytes("re-uploaded")
		k := put(t, s, doc)
		looks := 0
		removed, err := s.RemoveUnreferenced([]string{k}, func(keys []string) (map[string]bool, error) {
			looks++
			if looks == 2 {
				// An owner uploads the same bytes: it records its reference, then commits.
				if _, err := s.Put(context.Background(), bytes.NewReader(doc), 0); err != nil {
					t.Fatal(err)
				}
				return map[string]bool{k: true}, nil
			}
			return nil, nil
		})
		if err != nil || len(removed) != 0 {
			t.Fatalf("removed %v, %v", removed, err)
		}
		f, err := s.Open(k)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(f)
		if !bytes.Equal(buf.Bytes(), doc) {
			t.Fatalf("stored %q", buf.Bytes())
		}
		if names := files(t, s); !slices.Equal(names, []string{k}) {
			t.Fatalf("store holds %v", names)
		}
	})
}

// TestNewPutsBackWhatARemovalLeftAside: a removal interrupted between moving a file
// aside and deciding leaves it aside; the next New puts it back (or drops it when the
// key is stored again).
func TestNewPutsBackWhatARemovalLeftAside(t *testing.T) {
	s := newStore(t)
	a, b := put(t, s, pdfBytes("left aside")), put(t, s, pdfBytes("stored again"))
	for _, k := range []string{a, b} {
		if err := os.Rename(filepath.Join(s.Dir(), k), filepath.Join(s.Dir(), ".tmp-rm-"+k)); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-72 * time.Hour)
		_ = os.Chtimes(filepath.Join(s.Dir(), ".tmp-rm-"+k), old, old)
	}
	put(t, s, pdfBytes("stored again"))
	if _, err := uploads.New(s.Dir()); err != nil {
		t.Fatal(err)
	}
	names := files(t, s)
	slices.Sort(names)
	want := []string{a, b}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("store holds %v, want %v", names, want)
	}
}

func TestWalkAndShortKeysInErrors(t *testing.T) {
	s := newStore(t)
	var keys []string
	for i := range 3 {
		keys = append(keys, put(t, s, pdfBytes(fmt.Sprint("walk ", i))))
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), ".tmp-x"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var seen []string
	if err := s.Walk(func(key string, mod time.Time) bool {
		if mod.IsZero() || time.Since(mod) > time.Minute {
			t.Errorf("%s: modification time %v", key, mod)
		}
		seen = append(seen, key)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(seen)
	slices.Sort(keys)
	if !slices.Equal(seen, keys) {
		t.Fatalf("walked %v, want %v", seen, keys)
	}
	n := 0
	_ = s.Walk(func(string, time.Time) bool { n++; return false })
	if n != 1 {
		t.Errorf("Walk went on after false: %d calls", n)
	}

	k := keys[0]
	if got := redact.UploadKey(k); got != k[:8]+"…" {
		t.Errorf("redact.UploadKey = %q", got)
	}
	if _, err := s.Open(strings.Repeat("1", 64)); err == nil || strings.Contains(err.Error(), strings.Repeat("1", 9)) {
		t.Errorf("Open of a missing key: %v, want an error naming a short key", err)
	}
}
