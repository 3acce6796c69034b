package templates

import (
	"regexp"
	"testing"
	"time"
)

var fixedNow = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

func TestParseDateFormat(t *testing.T) {
	tests := []struct{ in, format, want string }{
		{"15.03.2020", "%d.%m.%Y", "2020-03-15"},
		{"5.3.2020", "%d.%m.%Y", "2020-03-05"},
		{"03/15/20", "%m/%d/%y", "2020-03-15"},
		{"15/03/99", "%d/%m/%y", "1999-03-15"},
		{"2020-03-15", "%Y-%m-%d", "2020-03-15"},
		{"15 March 2020", "%d %B %Y", "2020-03-15"},
		{"15   March 2020", "%d %B %Y", "2020-03-15"},
		{"15 Mar 2020", "%d %b %Y", "2020-03-15"},
		{"Mar 15, 2020", "%b %d, %Y", "2020-03-15"},
		{"15 janvier 2020", "%d %B %Y", "2020-01-15"},
		{"1 février 2021", "%d %B %Y", "2021-02-01"},
		{"3. März 2019", "%d. %B %Y", "2019-03-03"},
		{"12 diciembre 2018", "%d %B %Y", "2018-12-12"},
		{"7 agosto 2017", "%d %B %Y", "2017-08-07"},
		{"31 mei 2022", "%d %B %Y", "2022-05-31"},
		{"1 okt. 2022", "%d %b %Y", "2022-10-01"},
		{"Monday, 2 March 2020", "%A, %d %B %Y", "2020-03-02"},
		{"Mon 02 Mar 2020 14:05:09", "%a %d %b %Y %H:%M:%S", "2020-03-02"},
		{"2020.060", "%Y.%j", "2020-02-29"},
		{"15 March", "%d %B", "2024-03-15"},
		{"100%15.03.2020", "100%%%d.%m.%Y", "2020-03-15"},
	}
	for _, tc := range tests {
		t.Run(tc.in+"|"+tc.format, func(t *testing.T) {
			got, err := ParseDateFormat(tc.in, tc.format, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ParseDateFormat(%q, %q) = %q, want %q", tc.in, tc.format, got, tc.want)
			}
		})
	}
	bad := []struct{ in, format string }{
		{"31.02.2020", "%d.%m.%Y"},   // no such day
		{"15.03.2020 x", "%d.%m.%Y"}, // unconverted data remains
		{"15/03/2020", "%d.%m.%Y"},
		{"15 Foo 2020", "%d %B %Y"},
		{"15.03.2020", "%d.%m.%Q"}, // unknown directive
	}
	for _, tc := range bad {
		if got, err := ParseDateFormat(tc.in, tc.format, fixedNow); err == nil {
			t.Errorf("ParseDateFormat(%q, %q) = %q, want an error", tc.in, tc.format, got)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in    string
		langs []string
		want  string
	}{
		{"2020-03-15", nil, "2020-03-15"},
		{"20200315", nil, "2020-03-15"},
		{"15032020", nil, "2020-03-15"},
		{"03/04/2020", nil, "2020-03-04"},
		{"03/04/2020", []string{"en"}, "2020-03-04"},
		{"03/04/2020", []string{"fr"}, "2020-04-03"},
		{"03.04.2020", []string{"de"}, "2020-04-03"},
		{"15/03/2020", []string{"en"}, "2020-03-15"},
		{"03/15/2020", []string{"de"}, "2020-03-15"},
		{"8-9-2022", []string{"nl"}, "2022-09-08"},
		{"15.03.20", []string{"de"}, "2020-03-15"},
		{"March 15th, 2020", nil, "2020-03-15"},
		{"15 March 2020", nil, "2020-03-15"},
		{"15. März 2020", []string{"de"}, "2020-03-15"},
		{"1er février 2021", []string{"fr"}, "2021-02-01"},
		{"Mon, 2 Mar 2020", nil, "2020-03-02"},
		{"2 de marzo de 2020", []string{"es"}, "2020-03-02"},
		{"2020 Jan 15", nil, "2020-01-15"},
		{"15-Jan-2020", nil, "2020-01-15"},
		{"March 2020", nil, "2020-03-01"},
		{"17 oktober 2021", []string{"nl"}, "2021-10-17"},
		{"5 października 2021", []string{"pl"}, "2021-10-05"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDate(tc.in, tc.langs)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ParseDate(%q, %v) = %q, want %q", tc.in, tc.langs, got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "hello", "31/31/2020", "2020-13-01", "Total 12.50"} {
		if got, err := ParseDate(bad, nil); err == nil {
			t.Errorf("ParseDate(%q) = %q, want an error", bad, got)
		}
	}
}

var isoDate = regexp.MustCompile(`^\d{4}-\d\d-\d\d$`)

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2020-03-15", "15.03.2020", "March 15th, 2020", "1er février 2021", "20200315", "99/99/99", "", "%"} {
		f.Add(s, "%d.%m.%Y")
		f.Add(s, "%d %B %Y")
	}
	f.Fuzz(func(t *testing.T, s, format string) {
		if d, err := ParseDate(s, []string{"fr"}); err == nil && !isoDate.MatchString(d) {
			t.Errorf("ParseDate(%q) = %q, not YYYY-MM-DD", s, d)
		}
		if d, err := ParseDateFormat(s, format, fixedNow); err == nil && !isoDate.MatchString(d) {
			t.Errorf("ParseDateFormat(%q, %q) = %q, not YYYY-MM-DD", s, format, d)
		}
	})
}
