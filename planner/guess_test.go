package planner

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/erptest"
	"github.com/erpnext-otp/otp/promise"
)

// Once a book has been read, the next read of the supply goes with the
// book's, for the items the last book held; only items new to the book
// are read after it, and the engine gets the inputs a read after the book
// gives.
func TestBooksReadSupplyAlongsideTheBook(t *testing.T) {
	line := func(order, item string) erp.SalesOrderLine {
		return erp.SalesOrderLine{SalesOrder: order, DocStatus: 1, Company: "Co", Name: order + "-" + item, Idx: 1,
			ItemCode: item, Warehouse: "WH", Qty: 1, StockQty: 1, ConversionFactor: 1}
	}
	var (
		mu        sync.Mutex
		book      = []erp.SalesOrderLine{line("SO-1", "A"), line("SO-2", "B")}
		binsAsked [][]string
		guessed   = make(chan struct{}, 10)
	)
	newReader := func() *erptest.ERP {
		return withDefaults(&erptest.ERP{
			OpenOrderBookFn: func(context.Context, int) ([]erp.SalesOrderLine, error) {
				mu.Lock()
				defer mu.Unlock()
				return slices.Clone(book), nil
			},
			BinsFn: func(_ context.Context, items, _ []string) ([]erp.Bin, error) {
				mu.Lock()
				binsAsked = append(binsAsked, slices.Clone(items))
				mu.Unlock()
				guessed <- struct{}{}
				var out []erp.Bin
				for _, it := range items {
					out = append(out, erp.Bin{ItemCode: it, Warehouse: "WH", ActualQty: 5})
				}
				return out, nil
			},
			ItemsFn: func(_ context.Context, codes []string) ([]erp.Item, error) {
				var out []erp.Item
				for _, c := range codes {
					out = append(out, erp.Item{Code: c, StockUOM: "Nos", IsStockItem: true})
				}
				return out, nil
			},
		})
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	cfg := Config{DefaultWarehouse: "WH", Rules: promise.DefaultRules()}
	f := newReader()
	p := newTestPlanner(f, cfg, WithClock(func() time.Time { return now }))
	ctx := context.Background()
	if _, err := p.Books(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// The book changes: A leaves it, C comes.
	mu.Lock()
	book = []erp.SalesOrderLine{line("SO-2", "B"), line("SO-3", "C")}
	binsAsked = nil
	mu.Unlock()
	// The book is answered only once the guess's Bins read has begun:
	// the two go at once.
	f.OpenOrderBookFn = func(context.Context, int) ([]erp.SalesOrderLine, error) {
		select {
		case <-guessed:
		case <-time.After(10 * time.Second):
			t.Error("the book was read alone: no read of the supply began alongside it")
		}
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(book), nil
	}
	for len(guessed) > 0 {
		<-guessed
	}
	got, err := p.Books(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	asked := binsAsked
	mu.Unlock()
	if want := [][]string{{"A", "B"}, {"C"}}; !cmp.Equal(asked, want) {
		t.Errorf("Bins read for %q, want %q: the last book's items alongside the book, then only the new one", asked, want)
	}
	// A planner with no book read before reads after the book: the same inputs.
	cold := newTestPlanner(newReader(), cfg, WithClock(func() time.Time { return now }))
	want, err := cold.Books(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(want) != 1 {
		t.Fatalf("books = %d and %d, want one company's each", len(got), len(want))
	}
	if g, w := Fingerprint(got[0].Inputs), Fingerprint(want[0].Inputs); g != w {
		t.Errorf("inputs with the supply read alongside the book (fingerprint %s) differ from a read after it (%s)", g, w)
	}
	var stock []string
	for _, s := range got[0].Inputs.Supply.Stock {
		stock = append(stock, s.ItemCode)
	}
	if !cmp.Equal(stock, []string{"B", "C"}) {
		t.Errorf("stock rows of %q, want B and C: the item that left the book is dropped", stock)
	}
}
