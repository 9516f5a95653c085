package sandbox

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
)

// Reads share the database lock and writes hold it alone: while saves
// move every line of an order to a new date in one transaction, lists and
// document reads run side by side and each sees all lines on one date (a
// consistent snapshot, never half a save). Run with -race.
func TestReadsSeeWholeSaves(t *testing.T) {
	st := MustSite(t)
	s := st.Sandbox
	MustBasics(t, s)
	so := MustInsert(t, s, "Sales Order", soDoc(line("ITEM-A", 1, "Stores - WH", "2026-04-01"), line("ITEM-B", 2, "Stores - WH", "2026-04-01"),
		line("ITEM-A", 3, "Stores - WH", "2026-04-01")))
	name := so["name"].(string)
	const saves = 40
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range saves {
			doc, err := s.Get("Sales Order", name)
			if err != nil {
				t.Error(err)
				return
			}
			day := fmt.Sprintf("2026-05-%02d", i%28+1)
			rows := doc["items"].([]any)
			for _, r := range rows {
				r.(map[string]any)["delivery_date"] = day
			}
			if _, err := s.Update("Sales Order", name, map[string]any{"items": rows, "delivery_date": day}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	oneDate := func(what string, dates []any) {
		for _, d := range dates[1:] {
			if d != dates[0] {
				t.Errorf("%s saw lines on %v: half a save", what, dates)
				return
			}
		}
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range saves {
				rows, err := s.List("Sales Order", []string{"name", "items.delivery_date as d"}, map[string]any{"name": name}, "", 0)
				if err != nil {
					t.Error(err)
					return
				}
				var dates []any
				for _, r := range rows {
					dates = append(dates, r["d"])
				}
				oneDate("List", dates)
				r := st.call(t, http.MethodGet, "/api/resource/Sales Order/"+url.PathEscape(name), nil, nil)
				if r.Status != http.StatusOK {
					t.Errorf("GET: %d %s", r.Status, r.Raw)
					return
				}
				dates = nil
				for _, it := range r.Body["data"].(map[string]any)["items"].([]any) {
					dates = append(dates, it.(map[string]any)["delivery_date"])
				}
				oneDate("GET", dates)
			}
		}()
	}
	wg.Wait()
}

// A read transaction refuses to write: reads share the lock, so a write
// there would race with the other readers.
func TestReadTransactionRefusesWrites(t *testing.T) {
	s := MustSite(t).Sandbox
	defer func() {
		if recover() == nil {
			t.Error("a write in a read transaction did not panic")
		}
	}()
	_ = s.read(Administrator, func(t *tx) error {
		_, err := t.insert("Customer", map[string]any{"customer_name": "Nope"}, opIgnorePerms)
		return err
	})
}

// The kept insertion order of a doctype is the one a fresh sort of its
// table gives, after inserts, saves, deletes and a rolled-back insert.
func TestAllKeepsInsertionOrder(t *testing.T) {
	s := MustSite(t).Sandbox
	check := func(step string) {
		t.Helper()
		_ = s.read(Administrator, func(tx *tx) error {
			var want []string
			for _, d := range tx.all("Customer") {
				want = append(want, d.name())
			}
			fresh := make([]*document, 0)
			for _, d := range s.docs["Customer"] {
				fresh = append(fresh, d)
			}
			slices.SortFunc(fresh, func(a, b *document) int { return cmp.Compare(a.seq, b.seq) })
			var got []string
			for i, d := range fresh {
				got = append(got, d.name())
				if tx.all("Customer")[i] != d {
					t.Errorf("%s: %s is not the stored document", step, d.name())
				}
			}
			if !slices.Equal(want, got) {
				t.Errorf("%s: all() %v, want %v", step, want, got)
			}
			return nil
		})
	}
	for i := range 5 {
		MustInsert(t, s, "Customer", map[string]any{"customer_name": fmt.Sprintf("C%d", i)})
	}
	check("inserts")
	if _, err := s.Update("Customer", "C2", map[string]any{"customer_group": "Commercial"}); err != nil {
		t.Fatal(err)
	}
	check("save")
	if err := s.Delete("Customer", "C1"); err != nil {
		t.Fatal(err)
	}
	check("delete")
	MustInsert(t, s, "Customer", map[string]any{"customer_name": "C9"})
	err := s.run(Administrator, func(tx *tx) error {
		if _, err := tx.insert("Customer", map[string]any{"customer_name": "Rolled Back"}, opIgnorePerms); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("the transaction committed")
	}
	check("rollback")
}
