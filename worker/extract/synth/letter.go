package synth

import (
	"fmt"
	"strings"
)

// col is a table column: its title, its x (left edge, or right edge when right).
type col struct {
	title string
	x     float64
	right bool
}

// table draws a line-item table that may continue on a second page.
type table struct {
	d      *doc
	pdf    *PDF
	page   *Page
	cols   []col
	size   float64
	lead   float64 // line height
	y      float64
	header func(t *table)
	cells  func(i int, it item) []string
	x0, x1 float64 // horizontal extent for rules
	pages  int     // total pages (for "page n of m")
	footer func(p *Page, n int)
	cont   func(p *Page) float64 // continued-page header; returns the y to go on from
}

func (t *table) drawHeader() {
	if t.header != nil {
		t.header(t)
		return
	}
	t.page.Line(t.x0, t.y-t.size-2, t.x1, t.y-t.size-2, 0.6)
	for _, c := range t.cols {
		if c.right {
			t.page.TextRight(c.x, t.y, t.d.bold, t.size, c.title)
		} else {
			t.page.Text(c.x, t.y, t.d.bold, t.size, c.title)
		}
	}
	t.page.Line(t.x0, t.y+4, t.x1, t.y+4, 0.6)
	t.y += t.lead + 4
}

func (t *table) row(cells []string, font Font) {
	for k, c := range t.cols {
		if k >= len(cells) {
			break
		}
		if c.right {
			t.page.TextRight(c.x, t.y, font, t.size, cells[k])
		} else {
			t.page.Text(c.x, t.y, font, t.size, cells[k])
		}
	}
	t.y += t.lead
}

// run draws the header and the rows, breaking to a second page as the document says.
func (t *table) run() {
	d := t.d
	if d.split < 0 {
		t.y = max(t.y, t.page.H-135)
	}
	t.drawHeader()
	var sum money
	amountCol := len(t.cols) - 1
	carryRow := func(label string) {
		cells := make([]string, len(t.cols))
		cells[1] = label
		cells[amountCol] = d.m(sum)
		t.row(cells, d.bold)
	}
	brk := func() {
		if d.carry {
			t.page.Line(t.x0, t.y-t.size-1, t.x1, t.y-t.size-1, 0.3)
			carryRow(fmt.Sprintf(d.w("carryTo"), 2))
		}
		t.footer(t.page, 1)
		t.page = t.pdf.NewPage(t.page.W, t.page.H)
		t.y = t.cont(t.page)
		if d.repeatHeader || d.split < 0 {
			t.drawHeader()
		}
		if d.carry {
			carryRow(d.w("carry"))
			t.page.Line(t.x0, t.y-t.size-1, t.x1, t.y-t.size-1, 0.3)
			t.y += 3
		}
	}
	if d.split < 0 {
		// The header ends page 1; every row is on page 2, under no header of its own
		// unless the layout repeats it.
		t.footer(t.page, 1)
		t.page = t.pdf.NewPage(t.page.W, t.page.H)
		t.y = t.cont(t.page)
		if d.repeatHeader {
			t.drawHeader()
		}
	}
	for i, it := range d.items {
		if d.split > 0 && i == d.split {
			brk()
		}
		t.row(t.cells(i, it), d.font)
		sum += it.amount()
	}
	t.page.Line(t.x0, t.y-t.size, t.x1, t.y-t.size, 0.6)
	t.y += 6
}

// letterLayout is a European business letter: letterhead, sender line above the
// address window, an information block beside it, the table, totals with a tax
// breakdown, payment details and a three-column footer. French letters put the
// recipient on the right.
func letterLayout(d *doc) *PDF {
	pdf, p := d.firstPage()
	W := p.W
	L, R := 62.0, W-56
	s := d.supplier

	// Letterhead.
	y := 58.0
	for _, n := range s.name {
		p.Text(L, y, d.bold, 15, n)
		y += 17
	}
	p.Text(L, y, d.font, 8.5, s.street+" · "+s.cityLine())
	y += 11
	contact := []string{}
	if s.phone != "" {
		contact = append(contact, d.w("phone")+" "+s.phone)
	}
	if s.email != "" {
		contact = append(contact, s.email)
	}
	if s.web != "" {
		contact = append(contact, s.web)
	}
	p.Text(L, y, d.font, 8.5, strings.Join(contact, " · "))
	p.Line(L, 118, R, 118, 0.8)

	// Address window and information block.
	ax, ix := L, W/2+40
	if d.addressRight {
		ax, ix = W/2+30, L
	}
	p.Text(ax, 148, d.font, 6.5, s.fullName()+" · "+s.street+" · "+s.cityLine())
	p.Line(ax, 151, ax+220, 151, 0.3)
	y = 166
	c := d.customer
	var addr []string
	addr = append(addr, c.pre...)
	addr = append(addr, c.name...)
	addr = append(addr, c.post...)
	addr = append(addr, c.street, c.cityLine())
	if c.foreign != "" {
		addr = append(addr, c.foreign)
	}
	for _, l := range addr {
		p.Text(ax, y, d.font, 10, l)
		y += 12.5
	}

	type kv struct{ k, v string }
	numLabel := d.numberLabel
	if numLabel == "" {
		numLabel = d.w("number")
		if d.credit {
			numLabel = d.w("creditNumber")
		}
	}
	info := []kv{{numLabel, d.number}, {d.w("date"), d.dt(d.date)}}
	if d.policy && !d.due.IsZero() {
		// Premium and rent notices state the due date as a field of their own.
		info = append(info, kv{d.w("dueInfo"), d.dt(d.due)})
	}
	if d.custNo != "" {
		info = append(info, kv{d.w("custNo"), d.custNo})
	}
	if d.po != "" {
		info = append(info, kv{d.w("po"), d.po})
	}
	for _, r := range d.refs {
		info = append(info, kv{r.label, r.value})
	}
	if !d.period[0].IsZero() {
		lbl := d.periodLabel
		if lbl == "" {
			lbl = d.w("period")
		}
		info = append(info, kv{lbl, d.dt(d.period[0]) + " – " + d.dt(d.period[1])})
	}
	if d.custVAT != "" {
		info = append(info, kv{d.w("custVAT"), d.custVAT})
	}
	y = 160
	for _, e := range info {
		p.Text(ix, y, d.font, 9, e.k+":")
		p.Text(ix+112, y, d.font, 9, e.v)
		y += 12
	}

	// Title and text.
	y = max(y, 166+12.5*float64(len(addr))) + 30
	p.Text(L, y, d.bold, 14, d.title)
	y += 22
	p.Text(L, y, d.font, 10, d.w("dear"))
	y += 13
	intro := d.w("intro")
	if d.credit {
		intro = d.w("creditIntro")
	}
	p.Text(L, y, d.font, 10, intro)
	y += 24
	y = d.writePreface(p, L, y, 10, 13)

	pages := d.pageCount()
	footer := func(pg *Page, n int) { letterFooter(d, pg, L, R, n, pages) }
	cont := func(pg *Page) float64 {
		pg.Text(L, 50, d.bold, 9, s.fullName())
		pg.TextRight(R, 50, d.font, 9, d.title+" "+d.number)
		pg.Line(L, 56, R, 56, 0.5)
		return 80
	}

	var t *table
	if d.policy {
		t = &table{cols: []col{{d.w("pos"), L, false}, {d.w("desc"), L + 28, false}, {d.w("vat"), R - 110, true}, {d.w("amount"), R, true}}}
		t.cells = func(i int, it item) []string {
			return []string{fmt.Sprint(i + 1), it.desc, d.ms.rate(it.rate) + " %", d.m(it.amount())}
		}
		if d.noTax {
			t.cols = append(t.cols[:2], t.cols[3])
			t.cells = func(i int, it item) []string { return []string{fmt.Sprint(i + 1), it.desc, d.m(it.amount())} }
		}
	} else {
		t = &table{cols: []col{{d.w("pos"), L, false}, {d.w("desc"), L + 28, false}, {d.w("qty"), R - 205, true},
			{d.w("unit"), R - 198, false}, {d.w("price"), R - 105, true}, {d.w("vat"), R - 70, true}, {d.w("amount"), R, true}}}
		t.cells = func(i int, it item) []string {
			return []string{fmt.Sprint(i + 1), it.desc, d.ms.qty(it.qty), it.unit, d.m(it.price), d.ms.rate(it.rate) + " %", d.m(it.amount())}
		}
	}
	t.d, t.pdf, t.page, t.size, t.lead, t.y = d, pdf, p, 9, 13, y
	t.x0, t.x1, t.pages, t.footer, t.cont = L, R, pages, footer, cont
	t.run()
	p, y = t.page, t.y+4

	// Totals.
	lx := R - 230
	line := func(label, value string, f Font) {
		p.Text(lx, y, f, 9.5, label)
		p.TextRight(R, y, f, 9.5, value)
		y += 13
	}
	br := d.breakdown()
	if !d.noTax {
		line(d.w("subtotal"), d.mc(d.subtotal()), d.font)
		for _, b := range br {
			line(fmt.Sprintf(d.w("taxOn"), d.ms.rate(b.rate), d.m(b.base)), d.mc(b.amount), d.font)
		}
	}
	p.Line(lx, y-9, R, y-9, 0.5)
	y += 2
	totalLabel := d.w("total")
	if d.credit {
		totalLabel = d.w("creditTotal")
	}
	line(totalLabel, d.mc(d.total()), d.bold)
	if d.prepaid != 0 {
		line(d.w("prepaid"), d.mc(-d.prepaid), d.font)
		line(d.w("due2"), d.mc(d.amountDue()), d.bold)
	}
	y += 8
	if len(br) > 1 {
		// The breakdown table, as German and French invoices print it for several rates.
		bx := []float64{L, L + 140, L + 230, L + 320}
		for k, h := range []string{d.w("rateH"), d.w("baseH"), d.w("taxH"), d.w("grossH")} {
			if k == 0 {
				p.Text(bx[k], y, d.bold, 8.5, h)
			} else {
				p.TextRight(bx[k]+50, y, d.bold, 8.5, h)
			}
		}
		p.Line(L, y+3, L+370, y+3, 0.4)
		y += 13
		for _, b := range br {
			p.Text(bx[0], y, d.font, 8.5, d.ms.rate(b.rate)+" %")
			p.TextRight(bx[1]+50, y, d.font, 8.5, d.m(b.base))
			p.TextRight(bx[2]+50, y, d.font, 8.5, d.m(b.amount))
			p.TextRight(bx[3]+50, y, d.font, 8.5, d.m(b.base+b.amount))
			y += 11.5
		}
		y += 8
	}
	for _, l := range d.extra {
		p.Text(L, y, d.font, 9, l)
		y += 12
	}
	if d.credit {
		p.Text(L, y, d.font, 9, d.w("creditPay"))
	} else if !d.due.IsZero() {
		p.Text(L, y, d.font, 9, fmt.Sprintf(d.w("pay"), d.dt(d.due)))
	}
	y += 12
	if d.terms != "" {
		p.Text(L, y, d.font, 9, d.terms)
		y += 12
	}
	p.Text(L, y, d.font, 9, d.w("thanks"))
	footer(p, pages)
	return pdf
}

func letterFooter(d *doc, p *Page, L, R float64, n, pages int) {
	s := d.supplier
	y := p.H - 62
	p.Line(L, y-10, R, y-10, 0.4)
	cw := (R - L) / 3
	c1 := []string{s.fullName(), s.street, s.cityLine()}
	c2 := []string{d.w("bank")}
	if d.iban != "" {
		c2 = append(c2, "IBAN "+spaced(d.iban), "BIC "+d.bic)
	}
	c3 := []string{}
	if s.taxID != "" {
		c3 = append(c3, d.w("vatID")+" "+s.taxID)
	}
	if s.phone != "" {
		c3 = append(c3, d.w("phone")+" "+s.phone)
	}
	if s.email != "" {
		c3 = append(c3, d.w("email")+" "+s.email)
	}
	for k, c := range [][]string{c1, c2, c3} {
		for i, l := range c {
			p.Text(L+float64(k)*cw, y+float64(i)*9, d.font, 7, l)
		}
	}
	if pages > 1 {
		p.TextRight(R, p.H-24, d.font, 7.5, fmt.Sprintf(d.w("page"), n, pages))
	}
}

// spaced prints an IBAN in groups of four.
func spaced(iban string) string {
	var b strings.Builder
	for i, r := range iban {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// firstPage starts the document's PDF with its first page, A4 or US Letter.
func (d *doc) firstPage() (*PDF, *Page) {
	pdf := &PDF{Title: d.title + " " + d.number}
	if d.letter {
		return pdf, pdf.NewPage(LetterWidth, LetterHeight)
	}
	return pdf, pdf.NewPage(A4Width, A4Height)
}
