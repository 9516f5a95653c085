package planner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/promise"
)

// site is what the planner caches per company: it changes rarely and costs
// up to three requests to read.
type site struct {
	calendar promise.Calendar
	// shipping are the warehouses an order can ship from (see shipsFrom);
	// empty when they could not be read, so that no alternate warehouse is
	// offered (nil would let the engine offer any warehouse, Transit and
	// Work In Progress included).
	shipping map[string]bool
	// known are all the company's warehouses; nil when they could not be
	// read, and then quotes are not checked against them.
	known   map[string]bool
	expires time.Time
}

// site returns company's calendar and warehouses, read at most once per
// CalendarTTL (and once at a time however many promises ask).
func (p *Planner) site(ctx context.Context, company string) (*site, error) {
	p.mu.Lock()
	s, ok := p.sites[company]
	p.mu.Unlock()
	if ok && p.now().Before(s.expires) {
		return s, nil
	}
	load := func() (any, error) {
		s, err := p.loadSite(ctx, company)
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		p.sites[company] = s
		p.mu.Unlock()
		return s, nil
	}
	v, err, shared := p.loads.Do(company, load)
	if shared && ctx.Err() == nil && isCanceled(err) {
		// We joined another caller's read and that caller gave up (a quote
		// whose client went away, a promise whose other reads failed): its
		// context ended, ours did not, so read for ourselves.
		v, err, _ = p.loads.Do(company, load)
	}
	if err != nil {
		return nil, err
	}
	return v.(*site), nil
}

// isCanceled reports an error that comes from a context ending. The erp
// client returns the caller's ctx.Err() then; its own timeouts do not match.
func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (p *Planner) loadSite(ctx context.Context, company string) (*site, error) {
	s := &site{
		calendar: promise.Calendar{Weekend: p.cfg.Weekend},
		expires:  p.now().Add(p.cfg.CalendarTTL),
	}
	if company == "" {
		return s, nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		ws, err := p.r.Warehouses(gctx, company)
		if isPermission(err) {
			p.warnOnce(ctx, "warehouses:"+company, "planner: warehouses not readable; alternate warehouses not offered and quotes not checked",
				"company", company, "err", err)
			s.shipping = map[string]bool{}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read warehouses of %s: %w", company, err)
		}
		s.known = make(map[string]bool, len(ws))
		s.shipping = map[string]bool{}
		for _, w := range ws {
			s.known[w.Name] = true
			if shipsFrom(w, company) {
				s.shipping[w.Name] = true
			}
		}
		return nil
	})
	g.Go(func() error {
		cal, err := p.readCalendar(gctx, company)
		if err != nil {
			return err
		}
		s.calendar = cal
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return s, nil
}

// readCalendar reads the company's default Holiday List. A list that is not
// set, not there (404) or not readable (403: Holiday List is HR Manager only,
// docs/erpnext.md) leaves the configured weekend, logged once.
func (p *Planner) readCalendar(ctx context.Context, company string) (promise.Calendar, error) {
	cal := promise.Calendar{Weekend: p.cfg.Weekend}
	name, err := p.r.CompanyHolidayList(ctx, company)
	if isPermission(err) || isNotFound(err) {
		p.warnOnce(ctx, "holidays:"+company, "planner: company not readable; using the configured weekend",
			"company", company, "err", err)
		return cal, nil
	}
	if err != nil {
		return cal, fmt.Errorf("read holiday list of %s: %w", company, err)
	}
	if name == "" {
		p.warnOnce(ctx, "holidays:"+company, "planner: company has no default holiday list; using the configured weekend",
			"company", company)
		return cal, nil
	}
	hl, err := p.r.HolidayList(ctx, name)
	if isPermission(err) || isNotFound(err) {
		p.warnOnce(ctx, "holidays:"+company, "planner: holiday list not readable; using the configured weekend",
			"company", company, "holiday_list", name, "err", err)
		return cal, nil
	}
	if err != nil {
		return cal, fmt.Errorf("read holiday list %s: %w", name, err)
	}
	return calendarOf(hl, p.cfg.Weekend)
}

// calendarOf turns Holiday List rows into the engine's calendar: weekly-off
// rows (weekly_off=1, as ERPNext generates them) apart from other holidays.
func calendarOf(hl *erp.HolidayList, weekend []time.Weekday) (promise.Calendar, error) {
	cal := promise.Calendar{
		Weekend:    weekend,
		WeeklyOffs: map[promise.Date]bool{},
		Holidays:   map[promise.Date]string{},
	}
	var err error
	if cal.ListFrom, err = promise.ParseDate(hl.FromDate); err != nil {
		return cal, fmt.Errorf("holiday list %s: from_date: %w", hl.Name, err)
	}
	if cal.ListTo, err = promise.ParseDate(hl.ToDate); err != nil {
		return cal, fmt.Errorf("holiday list %s: to_date: %w", hl.Name, err)
	}
	for _, h := range hl.Holidays {
		d, err := promise.ParseDate(h.Date)
		if err != nil {
			return cal, fmt.Errorf("holiday list %s: %w", hl.Name, err)
		}
		if h.WeeklyOff {
			cal.WeeklyOffs[d] = true
		} else {
			cal.Holidays[d] = h.Description
		}
	}
	return cal, nil
}

// shipsFrom reports whether an order can ship from w. The rule, on ERPNext's
// own Warehouse fields (docs/erpnext.md), never on name substrings:
//   - it belongs to the company, and is neither a group (groups hold no
//     Bins) nor disabled;
//   - its warehouse_type is not "Transit" (goods in transit are not yet
//     received: ERPNext's own "Goods In Transit" warehouse has that type);
//   - it is not a rejected-goods warehouse (is_rejected_warehouse): what
//     quality inspection rejected is not sellable;
//   - it is not ERPNext's standard "Work In Progress" warehouse, whose stock
//     is consumed by manufacturing. Warehouse has no field for this, so the
//     warehouse_name that ERPNext's setup gives it is matched exactly (the
//     name minus its " - <company abbr>" suffix), case-insensitively.
func shipsFrom(w erp.Warehouse, company string) bool {
	if w.IsGroup || w.Disabled || w.IsRejectedWarehouse || (w.Company != "" && w.Company != company) {
		return false
	}
	if strings.EqualFold(w.WarehouseType, "Transit") {
		return false
	}
	return !strings.EqualFold(baseName(w.Name), "Work In Progress")
}

// baseName strips the " - <abbr>" suffix ERPNext appends to warehouse names.
func baseName(name string) string {
	if i := strings.LastIndex(name, " - "); i > 0 {
		return name[:i]
	}
	return name
}

func (p *Planner) warnOnce(ctx context.Context, key, msg string, args ...any) {
	p.mu.Lock()
	seen := p.warned[key]
	p.warned[key] = true
	p.mu.Unlock()
	if !seen {
		p.log.WarnContext(ctx, msg, args...)
	}
}
