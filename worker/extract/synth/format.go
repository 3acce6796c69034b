package synth

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// money is an amount in cents.
type money int64

func (m money) float() float64 { return float64(m) / 100 }

// moneyStyle is how a document prints numbers.
type moneyStyle int

const (
	usMoney moneyStyle = iota // 1,234.56
	deMoney                   // 1.234,56
	frMoney                   // 1 234,56
)

// group joins the digits of a non-negative integer in groups of three with sep.
func group(n int64, sep string) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (st moneyStyle) fmt(m money) string {
	neg := m < 0
	if neg {
		m = -m
	}
	var s string
	switch st {
	case usMoney:
		s = group(int64(m)/100, ",") + "." + fmt.Sprintf("%02d", int64(m)%100)
	case deMoney:
		s = group(int64(m)/100, ".") + "," + fmt.Sprintf("%02d", int64(m)%100)
	case frMoney:
		s = group(int64(m)/100, " ") + "," + fmt.Sprintf("%02d", int64(m)%100)
	}
	if neg {
		s = "-" + s
	}
	return s
}

// qty prints a quantity: no decimals when whole.
func (st moneyStyle) qty(q float64) string {
	if q == math.Trunc(q) {
		return strconv.FormatFloat(q, 'f', 0, 64)
	}
	s := strconv.FormatFloat(q, 'f', -1, 64)
	if st != usMoney {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// rate prints a tax rate without a unit: "19", "5,5", "8.875".
func (st moneyStyle) rate(r float64) string { return st.qty(r) }

// dateStyle is how a document prints dates.
type dateStyle int

const (
	usDate     dateStyle = iota // 01/15/2025
	deDate                      // 15.01.2025
	frDate                      // 15/01/2025
	isoDate                     // 2025-01-15
	longENDate                  // January 15, 2025
	longDEDate                  // 15. Januar 2025
	longFRDate                  // 15 janvier 2025
	ukDate                      // 15 Jan 2025
)

var (
	monthsEN = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	monthsDE = []string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}
	monthsFR = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
)

func (st dateStyle) fmt(t time.Time) string {
	switch st {
	case usDate:
		return t.Format("01/02/2006")
	case deDate:
		return t.Format("02.01.2006")
	case frDate:
		return t.Format("02/01/2006")
	case isoDate:
		return t.Format("2006-01-02")
	case longENDate:
		return fmt.Sprintf("%s %d, %d", monthsEN[t.Month()-1], t.Day(), t.Year())
	case longDEDate:
		return fmt.Sprintf("%d. %s %d", t.Day(), monthsDE[t.Month()-1], t.Year())
	case longFRDate:
		return fmt.Sprintf("%d %s %d", t.Day(), monthsFR[t.Month()-1], t.Year())
	case ukDate:
		return t.Format("2 Jan 2006")
	}
	return t.Format("2006-01-02")
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}
