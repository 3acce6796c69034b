package schema

import (
	"fmt"
	"unicode/utf8"

	"entgo.io/ent"
)

// chars limits the string field f (built without MaxLen) to n characters (runes), the
// unit of the API's limits (internal/jobs: MaxJobNumberLen and the like). ent's MaxLen
// counts bytes, so that 43 CJK characters or 33 emoji would pass the API and fail here.
// The column keeps the size MaxLen gives it (varchar(n) on PostgreSQL, where n counts
// characters; SQLite does not enforce sizes), and the validator counts runes.
func chars(f ent.Field, n int) ent.Field {
	d := f.Descriptor()
	d.Size = n
	d.Validators = append(d.Validators, maxRunes(n))
	return f
}

// maxRunes is a validator refusing text of more than n characters.
func maxRunes(n int) func(string) error {
	return func(s string) error {
		if c := utf8.RuneCountInString(s); c > n {
			return fmt.Errorf("value is %d characters long, more than the maximum of %d", c, n)
		}
		return nil
	}
}
