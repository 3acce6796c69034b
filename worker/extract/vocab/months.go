package vocab

import (
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// monthLists are month names and abbreviations, January first, in English, German,
// French, Spanish, Italian, Dutch, Portuguese and Polish, folded (see Fold); "" where a
// list has no form of its own for that month.
var monthLists = [][12]string{
	// en
	{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"},
	{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"},
	// de (Austrian "Jänner", "Feber"; "Maerz" where the umlaut is written out)
	{"januar", "februar", "marz", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "dezember"},
	{"jan", "feb", "mrz", "apr", "mai", "jun", "jul", "aug", "sept", "okt", "nov", "dez"},
	{"janner", "feber", "maerz", "", "", "", "", "", "", "", "", ""},
	// fr
	{"janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre", "novembre", "decembre"},
	{"janv", "fevr", "mars", "avr", "mai", "juin", "juil", "aout", "sept", "oct", "nov", "dec"},
	{"", "fev", "", "", "", "", "", "", "", "", "", ""},
	// es
	{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"},
	{"", "", "", "", "", "", "", "", "setiembre", "", "", ""},
	// it
	{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
	{"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"},
	// nl
	{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
	{"jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"},
	// pt
	{"janeiro", "fevereiro", "marco", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"},
	{"jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"},
	// pl (genitive as printed in dates, then nominative)
	{"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "wrzesnia", "pazdziernika", "listopada", "grudnia"},
	{"styczen", "luty", "marzec", "kwiecien", "maj", "czerwiec", "lipiec", "sierpien", "wrzesien", "pazdziernik", "listopad", "grudzien"},
	{"sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paz", "lis", "gru"},
}

var months = func() map[string]int {
	m := map[string]int{}
	for _, l := range monthLists {
		for i, n := range l {
			if n == "" {
				continue
			}
			if prev, ok := m[n]; ok && prev != i+1 {
				panic("vocab: month name " + n + " names two months")
			}
			m[n] = i + 1
		}
	}
	return m
}()

// Month returns the number (1..12) of a folded month name or abbreviation without its
// dot ("marz", "sept", "fevr"); false when name is none.
func Month(name string) (int, bool) {
	n, ok := months[name]
	return n, ok
}

// MonthNames are every folded month form, longest first (ties in alphabetical order),
// ready to be joined into a regexp alternation.
func MonthNames() []string {
	names := make([]string, 0, len(months))
	for n := range months {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if len(names[i]) != len(names[j]) {
			return len(names[i]) > len(names[j])
		}
		return names[i] < names[j]
	})
	return names
}

// Fold lower-cases s and strips accents ("Février" -> "fevrier", "März" -> "marz",
// "ß" -> "s"): the form month names are kept in.
func Fold(s string) string {
	s = norm.NFKD.String(strings.ToLower(s))
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		switch r {
		case 'ß':
			return 's'
		}
		return r
	}, s)
}
