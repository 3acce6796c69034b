package extract

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	cases := []struct {
		in    string
		order DateOrder
		want  string
		ok    bool
	}{
		{"05.03.2018", DMY, "2018-03-05", true},
		{"03/20/2023", DMY, "2023-03-20", true}, // 20 cannot be a month
		{"04/04/2023", MDY, "2023-04-04", true},
		{"03/04/2023", MDY, "2023-03-04", true},
		{"03/04/2023", DMY, "2023-04-03", true},
		{"2019-06-10", DMY, "2019-06-10", true},
		{"25/12/18", DMY, "2018-12-25", true},
		{"8-9-2022", DMY, "2022-09-08", true},
		{"7. Mai 2014", DMY, "2014-05-07", true},
		{"August 3 , 2014", DMY, "2014-08-03", true},
		{"Jan 1, 2022", MDY, "2022-01-01", true},
		{"02 Juillet 2015", DMY, "2015-07-02", true},
		{"19 april 2014", DMY, "2014-04-19", true},
		{"29 maart 2014", DMY, "2014-03-29", true},
		{"15 de marzo de 2021", DMY, "2021-03-15", true},
		{"3 settembre 2020", DMY, "2020-09-03", true},
		{"25DEC2018", DMY, "2018-12-25", true},
		{"31.02.2018", DMY, "", false},
		{"no date here", DMY, "", false},
		{"12345", DMY, "", false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, ok := ParseDate(c.in, c.order)
			if ok != c.ok || got != c.want {
				t.Errorf("ParseDate(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
			}
		})
	}
}

func TestDetectDateOrder(t *testing.T) {
	cases := []struct {
		name, text, lang string
		usd              bool
		want             DateOrder
	}{
		{"day above 12", "Date 25/12/2018", "eng", true, DMY},
		{"month first evidence", "Invoice Date 03/20/2023", "eng", false, MDY},
		{"US default", "Date 03/04/2023", "eng", true, MDY},
		{"German default", "Datum 03.04.2023", "deu", false, DMY},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := detectDateOrder(c.text, c.lang, c.usd); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// FuzzParseDate checks that every date reported is a real calendar date.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"05.03.2018", "August 3 , 2014", "7. Mai 2014", "2019-06-10", "31/31/31", "1.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, o := range []DateOrder{DMY, MDY} {
			d, ok := ParseDate(s, o)
			if !ok {
				continue
			}
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				t.Fatalf("ParseDate(%q) = %q: %v", s, d, err)
			}
		}
	})
}
