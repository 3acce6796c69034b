// Package profile learns supplier profiles: from one document whose true data is known
// (a corrected or approved job, or an e-invoice, whose XML is exact), how to find each
// field on the same supplier's later documents, and applies what it learned to them.
//
// A profile is a set of Rules, one per field path. A document field (the invoice
// number, dates, amounts, the order reference) is learned as where it was printed: the
// label before it on its line or above it, its page-relative box and the shape of a
// code's value (letters and punctuation kept, digit runs generalised). A party field
// (the supplier's name, address and ids, the customer, the bank account, the currency)
// is learned as its value, and used when it is printed on the later document.
//
// Rules decay: a field a profile supplied that a later truth contradicts loses
// confidence, and is dropped below a floor until a truth relearns it; the same truth
// relearns the field, so a profile poisoned by a wrong correction is fixed by the next
// correction. Keys reads what a profile is looked up by.
package profile
