package synth

import (
	"fmt"
	"strings"
)

// stationLayout is a US broadcast station's invoice to an advertising agency, as
// traffic systems print it: call letters and licensee, a header of agency, advertiser,
// product, contract and estimate numbers and the flight, a spot schedule (line, day,
// air date, air time, length, programme, rate) and the gross, the agency commission and
// the net amount due. The items' cols hold day, date, time, length and programme.
func stationLayout(d *doc) *PDF {
	pdf := &PDF{Title: d.title + " " + d.number}
	p := pdf.NewPage(LetterWidth, LetterHeight)
	L, R := 40.0, LetterWidth-40
	s := d.supplier
	fs := 9.0
	if d.font == Courier {
		fs = 8.5
	}

	// Call letters (the first extra line) and the licensee.
	call := d.extra[0]
	p.Text(L, 58, d.bold, 22, call)
	y := 76.0
	for _, n := range s.name {
		p.Text(L, y, d.bold, 10, n)
		y += 12
	}
	p.Text(L, y, d.font, fs, s.street)
	p.Text(L, y+11, d.font, fs, s.cityLine())
	if s.phone != "" {
		p.Text(L, y+22, d.font, fs, "Phone "+s.phone)
	}

	p.TextRight(R, 58, d.bold, 16, strings.ToUpper(d.title))
	type kv struct{ k, v string }
	numLabel := d.numberLabel
	if numLabel == "" {
		numLabel = "Invoice #"
	}
	info := []kv{{numLabel, d.number}, {"Invoice Date", d.dt(d.date)}}
	for _, r := range d.refs {
		info = append(info, kv{r.label, r.value})
	}
	if d.po != "" {
		info = append(info, kv{"PO #", d.po})
	}
	if !d.due.IsZero() {
		info = append(info, kv{"Due Date", d.dt(d.due)})
	}
	if d.terms != "" {
		info = append(info, kv{"Terms", d.terms})
	}
	iy := 76.0
	for _, e := range info {
		p.Text(R-200, iy, d.bold, fs, e.k+":")
		p.TextRight(R, iy, d.font, fs, e.v)
		iy += 11.5
	}
	y = max(y+40, iy+12)

	// Agency (bill to) and advertiser boxes.
	bw := (R - L - 20) / 2
	p.Rect(L, y, bw, 92, -1, 0.7)
	p.Rect(L+bw+20, y, bw, 92, -1, 0.7)
	p.Text(L+6, y+12, d.bold, fs, "BILL TO AGENCY:")
	c := d.customer
	var addr []string
	addr = append(addr, c.pre...)
	addr = append(addr, c.name...)
	addr = append(addr, c.post...)
	addr = append(addr, c.street, c.cityLine())
	ay := y + 25
	for _, l := range addr {
		p.Text(L+6, ay, d.font, fs, l)
		ay += 11
	}
	rx := L + bw + 26
	ry := y + 12
	for _, l := range d.extra[1:] {
		if k, v, ok := strings.Cut(l, "|"); ok {
			p.Text(rx, ry, d.bold, fs, k)
			p.Text(rx+95, ry, d.font, fs, v)
		} else {
			p.Text(rx, ry, d.font, fs, l)
		}
		ry += 11.5
	}
	if !d.period[0].IsZero() {
		lbl := d.periodLabel
		if lbl == "" {
			lbl = "Flight Dates:"
		}
		p.Text(rx, ry, d.bold, fs, lbl)
		p.Text(rx+95, ry, d.font, fs, d.dt(d.period[0])+" - "+d.dt(d.period[1]))
	}
	y += 112

	pages := d.pageCount()
	footer := func(pg *Page, n int) {
		pg.Line(L, pg.H-46, R, pg.H-46, 0.4)
		pg.Text(L, pg.H-34, d.font, 7.5, "Remit to: "+s.fullName()+", "+s.street+", "+s.cityLine())
		pg.TextRight(R, pg.H-34, d.font, 7.5, fmt.Sprintf("Page %d of %d", n, pages))
	}
	cont := func(pg *Page) float64 {
		pg.Text(L, 46, d.bold, 10, call)
		pg.Text(L+100, 46, d.font, fs, "Invoice # "+d.number+"  "+c.fullName()+" (continued)")
		return 72
	}
	t := &table{cols: []col{{"Ln", L + 14, true}, {"Day", L + 22, false}, {"Air Date", L + 50, false}, {"Air Time", L + 112, false},
		{"Len", L + 190, true}, {"Program / ISCI", L + 204, false}, {"Rate", R, true}}}
	t.cells = func(i int, it item) []string {
		cells := []string{fmt.Sprint(i + 1)}
		cells = append(cells, it.cols...)
		return append(cells, d.m(it.price))
	}
	t.d, t.pdf, t.page, t.size, t.lead, t.y = d, pdf, p, fs, 12.5, y
	t.x0, t.x1, t.pages, t.footer, t.cont = L, R, pages, footer, cont
	t.run()
	p, y = t.page, t.y+8

	lx := R - 240
	line := func(label, value string, f Font) {
		p.Text(lx, y, f, fs+0.5, label)
		p.TextRight(R, y, f, fs+0.5, value)
		y += 14
	}
	p.Text(L, y, d.font, fs, fmt.Sprintf("Total Spots: %d", len(d.items)))
	line(d.label("gross", "Gross Amount"), d.mc(d.total()), d.font)
	comm := "(" + d.mc(d.discount()) + ")"
	if d.label("neg", "()") == "-" {
		comm = d.mc(-d.discount())
	}
	line(d.label("commission", fmt.Sprintf("Less Agency Commission (%s%%)", d.ms.rate(d.commission))), comm, d.font)
	p.Line(lx, y-10, R, y-10, 0.6)
	line(d.label("net", "NET AMOUNT DUE"), d.mc(d.amountDue()), d.bold)
	y += 16
	p.Text(L, y, d.font, fs-0.5, "I hereby certify that the above schedule of announcements was broadcast as entered in the station's program log.")
	return pdf
}
